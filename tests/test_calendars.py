"""Vendor calendars: the deadlines every lateness alert is judged against, so each false-alarm trap is pinned here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow.calendars import BusinessCalendar
from orderflow.config import CalendarSettings
from orderflow.errors import ConfigError

CHICAGO = ZoneInfo("America/Chicago")


def calendar(**overrides: Any) -> BusinessCalendar:
    """A Chicago vendor, Mon-Fri, US federal holidays, cut-off 14:00, two handling days, open 9-17."""
    values: dict[str, Any] = {"timezone": "America/Chicago", "holidays": "US", "handling_days": 2, **overrides}
    return BusinessCalendar.from_settings(CalendarSettings(**values))


def chicago(wall_time: str) -> datetime:
    """``"2026-06-15 10:00"`` as Chicago time."""
    return datetime.fromisoformat(wall_time).replace(tzinfo=CHICAGO)


def utc(moment: str) -> datetime:
    """``"2026-06-15 15:00"`` as UTC."""
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def end_of_day_utc(day: date, zone: ZoneInfo = CHICAGO) -> datetime:
    return datetime.combine(day, time.max, tzinfo=zone).astimezone(UTC)


class TestWorkingDays:
    def test_weekend_is_not_a_working_day(self) -> None:
        """Saturday and Sunday are days off for a Mon-Fri vendor."""
        vendor = calendar()
        assert [vendor.is_working_day(date(2026, 6, day)) for day in range(12, 16)] == [True, False, False, True]

    def test_thanksgiving_is_a_holiday_but_the_day_after_is_not(self) -> None:
        """Thanksgiving 2026-11-26 is a federal holiday; Black Friday is an ordinary working day."""
        vendor = calendar()
        assert vendor.is_working_day(date(2026, 11, 26)) is False
        assert vendor.is_working_day(date(2026, 11, 27)) is True

    def test_observed_holiday_is_a_day_off(self) -> None:
        """Independence Day 2026 falls on a Saturday, so Friday 2026-07-03 is the observed day off."""
        assert calendar().is_working_day(date(2026, 7, 3)) is False

    def test_no_holiday_country_means_only_weekends_are_off(self) -> None:
        """With ``holidays = None`` Thanksgiving is a working day."""
        assert calendar(holidays=None).is_working_day(date(2026, 11, 26)) is True

    def test_extra_holidays_are_days_off(self) -> None:
        """A vendor's own closure day is skipped like a public holiday."""
        assert calendar(extra_holidays=(date(2026, 6, 15),)).is_working_day(date(2026, 6, 15)) is False

    def test_subdivision_holidays_apply(self) -> None:
        """A state holiday counts for a vendor in that state: Texas Independence Day, 2026-03-02."""
        assert calendar(subdivision="TX").is_working_day(date(2026, 3, 2)) is False
        assert calendar().is_working_day(date(2026, 3, 2)) is True

    def test_next_working_day_skips_weekend_and_holiday(self) -> None:
        """After Wednesday 2026-11-25 comes Friday (Thanksgiving skipped); after Friday comes Monday."""
        vendor = calendar()
        assert vendor.next_working_day(date(2026, 11, 25)) == date(2026, 11, 27)
        assert vendor.next_working_day(date(2026, 11, 27)) == date(2026, 11, 30)

    def test_add_working_days(self) -> None:
        """Adding 0 keeps the day; adding 3 to Friday 2026-11-06 skips the weekend and Veterans Day."""
        vendor = calendar()
        assert vendor.add_working_days(date(2026, 11, 6), 0) == date(2026, 11, 6)
        assert vendor.add_working_days(date(2026, 11, 6), 3) == date(2026, 11, 12)

    def test_negative_working_days_are_refused(self) -> None:
        """Counting backwards is not a thing a deadline does."""
        with pytest.raises(ValueError, match="-1"):
            calendar().add_working_days(date(2026, 6, 12), -1)


class TestCalendarSettings:
    def test_unknown_holiday_country_is_a_config_error(self) -> None:
        """A misspelt country code fails when the calendar is built, naming the country."""
        with pytest.raises(ConfigError, match="XX"):
            calendar(holidays="XX")

    def test_unknown_subdivision_is_a_config_error(self) -> None:
        """A misspelt state fails when the calendar is built."""
        with pytest.raises(ConfigError, match="ZZ"):
            calendar(subdivision="ZZ")

    def test_empty_working_week_is_a_config_error(self) -> None:
        """A vendor that never works could never meet a deadline, so the setting is refused."""
        with pytest.raises(ConfigError, match="working_days"):
            calendar(working_days=())

    def test_opening_after_closing_is_a_config_error(self) -> None:
        """Business hours must be a non-empty span of the day."""
        with pytest.raises(ConfigError, match="opens"):
            calendar(opens=time(17, 0), closes=time(9, 0))


class TestShipBy:
    def test_docstring_example(self) -> None:
        """Wednesday before Thanksgiving, 10:00 Chicago: ship by the end of Monday 2026-11-30."""
        assert calendar().ship_by(utc("2026-11-25 16:00")) == utc("2026-12-01 05:59:59.999999")

    def test_weekend_is_skipped(self) -> None:
        """Friday 10:00 with two handling days is due Tuesday, not Sunday."""
        assert calendar(holidays=None).ship_by(chicago("2026-06-12 10:00")) == end_of_day_utc(date(2026, 6, 16))

    def test_federal_holiday_is_skipped(self) -> None:
        """An order on Thanksgiving counts from Friday and is due Tuesday 2026-12-01."""
        assert calendar().ship_by(chicago("2026-11-26 10:00")) == end_of_day_utc(date(2026, 12, 1))

    def test_veterans_day_is_skipped(self) -> None:
        """Friday 2026-11-06 is due Tuesday 11-10; Monday 11-09 skips Veterans Day (Wednesday) for Thursday."""
        vendor = calendar()
        assert vendor.ship_by(chicago("2026-11-06 10:00")) == end_of_day_utc(date(2026, 11, 10))
        assert vendor.ship_by(chicago("2026-11-09 10:00")) == end_of_day_utc(date(2026, 11, 12))

    def test_extra_holiday_is_skipped(self) -> None:
        """A vendor closed on Monday 2026-06-15 ships a Friday order by Wednesday."""
        vendor = calendar(holidays=None, extra_holidays=(date(2026, 6, 15),))
        assert vendor.ship_by(chicago("2026-06-12 10:00")) == end_of_day_utc(date(2026, 6, 17))

    def test_saturday_order_counts_from_monday(self) -> None:
        """A Saturday order's day 0 is Monday, so two handling days make it due Wednesday."""
        assert calendar().ship_by(chicago("2026-06-13 10:00")) == end_of_day_utc(date(2026, 6, 17))

    def test_monday_to_saturday_vendor_works_saturdays(self) -> None:
        """A vendor that works Saturdays counts them: Friday → Saturday, Monday; Saturday → Monday, Tuesday."""
        vendor = calendar(working_days=("mon", "tue", "wed", "thu", "fri", "sat"))
        assert vendor.ship_by(chicago("2026-06-12 10:00")) == end_of_day_utc(date(2026, 6, 15))
        assert vendor.ship_by(chicago("2026-06-13 10:00")) == end_of_day_utc(date(2026, 6, 16))

    def test_handling_days_zero_before_cutoff_is_due_today(self) -> None:
        """Same-day shipping: an order before the cut-off is due at the end of that day."""
        assert calendar(handling_days=0).ship_by(chicago("2026-06-15 13:59")) == end_of_day_utc(date(2026, 6, 15))

    def test_handling_days_zero_after_cutoff_is_due_next_working_day(self) -> None:
        """Same-day shipping after the cut-off, on a Friday, is due Monday."""
        assert calendar(handling_days=0).ship_by(chicago("2026-06-12 14:01")) == end_of_day_utc(date(2026, 6, 15))

    def test_order_exactly_at_cutoff_counts_from_next_day(self) -> None:
        """The cut-off is exclusive: 14:00:00 sharp is already too late for today."""
        vendor = calendar(handling_days=0)
        assert vendor.ship_by(chicago("2026-06-15 14:00")) == end_of_day_utc(date(2026, 6, 16))
        assert vendor.ship_by(chicago("2026-06-15 13:59:59")) == end_of_day_utc(date(2026, 6, 15))

    def test_cutoff_is_local_when_utc_date_is_already_tomorrow(self) -> None:
        """19:59 CDT Wednesday is 00:59 UTC Thursday, yet with a 20:00 cut-off it still counts from Wednesday."""
        vendor = calendar(cutoff=time(20, 0), handling_days=0)
        assert vendor.ship_by(utc("2026-06-18 00:59")) == end_of_day_utc(date(2026, 6, 17))
        assert vendor.ship_by(utc("2026-06-18 01:01")) == end_of_day_utc(date(2026, 6, 18))

    def test_cutoff_is_local_when_utc_date_is_still_yesterday(self) -> None:
        """08:59 JST Tuesday is 23:59 UTC Monday: a Tokyo vendor with a 09:00 cut-off counts from Tuesday."""
        tokyo = ZoneInfo("Asia/Tokyo")
        vendor = calendar(timezone="Asia/Tokyo", holidays="JP", cutoff=time(9, 0), handling_days=0)
        assert vendor.ship_by(utc("2026-06-15 23:59")) == end_of_day_utc(date(2026, 6, 16), tokyo)
        assert vendor.ship_by(utc("2026-06-16 00:01")) == end_of_day_utc(date(2026, 6, 17), tokyo)

    def test_end_of_day_is_local_midnight_on_both_sides_of_autumn_dst(self) -> None:
        """Around 2026-11-01 the deadline is 23:59:59.999999 Chicago time, CDT before and CST after."""
        vendor = calendar(handling_days=0)
        before = vendor.ship_by(chicago("2026-10-30 10:00"))
        after = vendor.ship_by(chicago("2026-10-31 10:00"))
        assert before == utc("2026-10-31 04:59:59.999999")
        assert after == utc("2026-11-03 05:59:59.999999")
        assert {deadline.astimezone(CHICAGO).time() for deadline in (before, after)} == {time.max}

    def test_end_of_day_is_local_midnight_on_both_sides_of_spring_dst(self) -> None:
        """Around 2026-03-08 the deadline is 23:59:59.999999 Chicago time, CST before and CDT after."""
        vendor = calendar(handling_days=1)
        assert vendor.ship_by(chicago("2026-03-05 10:00")) == utc("2026-03-07 05:59:59.999999")
        assert vendor.ship_by(chicago("2026-03-06 10:00")) == utc("2026-03-10 04:59:59.999999")

    def test_cutoff_in_the_repeated_autumn_hour_uses_its_first_occurrence(self) -> None:
        """With a 01:30 cut-off on 2026-11-01, 01:15 CST comes after 01:30 CDT, so it is late like 01:45 CDT."""
        vendor = calendar(working_days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"), cutoff=time(1, 30),
                          handling_days=0)
        assert vendor.ship_by(utc("2026-11-01 06:29")) == end_of_day_utc(date(2026, 11, 1))  # 01:29 CDT
        assert vendor.ship_by(utc("2026-11-01 06:45")) == end_of_day_utc(date(2026, 11, 2))  # 01:45 CDT
        assert vendor.ship_by(utc("2026-11-01 07:15")) == end_of_day_utc(date(2026, 11, 2))  # 01:15 CST

    def test_naive_datetime_is_refused(self) -> None:
        """A time without a zone could be anyone's day, so it is an error rather than a guess."""
        with pytest.raises(ValueError, match="naive"):
            calendar().ship_by(datetime(2026, 6, 15, 10, 0))

    def test_result_is_utc(self) -> None:
        """Deadlines come back in UTC, whatever zone the order time was given in."""
        assert calendar().ship_by(chicago("2026-06-15 10:00")).tzinfo is UTC


CALENDARS = (
    calendar(),
    calendar(working_days=("mon", "tue", "wed", "thu", "fri", "sat"), handling_days=1),
    calendar(cutoff=time(1, 30), handling_days=0, extra_holidays=(date(2026, 12, 24),)),
    calendar(timezone="Asia/Tokyo", holidays="JP", cutoff=time(9, 0)),
    calendar(timezone="America/Santiago", holidays="CL", cutoff=time(23, 30), handling_days=3),
)
instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC))


class TestShipByProperties:
    @settings(deadline=None)
    @given(vendor=st.sampled_from(CALENDARS), placed_at=instants)
    def test_ship_by_is_the_end_of_a_working_day_never_before_the_order(
        self, vendor: BusinessCalendar, placed_at: datetime
    ) -> None:
        """Whatever the order time, the deadline ends a working day and does not precede the order."""
        deadline = vendor.ship_by(placed_at)
        local = deadline.astimezone(vendor.zone)
        assert vendor.is_working_day(local.date())
        assert local.time() == time.max
        assert deadline >= placed_at

    @settings(deadline=None)
    @given(
        vendor=st.sampled_from(CALENDARS),
        placed_at=instants,
        later_by=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
    )
    def test_a_later_order_never_gets_an_earlier_deadline(
        self, vendor: BusinessCalendar, placed_at: datetime, later_by: timedelta
    ) -> None:
        """ship_by is monotonic in placed_at."""
        assert vendor.ship_by(placed_at) <= vendor.ship_by(placed_at + later_by)


class TestBusinessHours:
    def test_inside_hours_adds_plainly(self) -> None:
        """Two hours from Monday 10:00 is Monday 12:00."""
        assert calendar().add_business_hours(chicago("2026-06-15 10:00"), 2) == utc("2026-06-15 17:00")

    def test_a_full_day_from_opening_ends_at_closing(self) -> None:
        """Eight hours from 09:00 is 17:00 the same day, not 09:00 the next."""
        assert calendar().add_business_hours(chicago("2026-06-15 09:00"), 8) == utc("2026-06-15 22:00")

    def test_across_a_weekend(self) -> None:
        """Eight hours from Friday 15:00: two on Friday, six on Monday, so Monday 15:00."""
        assert calendar().add_business_hours(chicago("2026-06-12 15:00"), 8) == utc("2026-06-15 20:00")

    def test_across_a_holiday(self) -> None:
        """Eight hours from Wednesday 15:00 before Thanksgiving end on Friday 15:00 CST."""
        assert calendar().add_business_hours(chicago("2026-11-25 15:00"), 8) == utc("2026-11-27 21:00")

    def test_start_outside_hours_counts_from_next_opening(self) -> None:
        """A Saturday start counts from Monday 09:00; an early start from that day's opening."""
        vendor = calendar()
        assert vendor.add_business_hours(chicago("2026-06-13 10:00"), 1) == utc("2026-06-15 15:00")
        assert vendor.add_business_hours(chicago("2026-06-15 07:00"), 0) == utc("2026-06-15 14:00")
        assert vendor.add_business_hours(chicago("2026-06-15 18:00"), 0.5) == utc("2026-06-16 14:30")

    def test_custom_hours(self) -> None:
        """A vendor open 07:00-11:00 spreads 6 hours from Monday 10:00 to Wednesday 08:00."""
        vendor = calendar(opens=time(7, 0), closes=time(11, 0))
        assert vendor.add_business_hours(chicago("2026-06-15 10:00"), 6) == utc("2026-06-17 13:00")

    def test_negative_hours_are_refused(self) -> None:
        """A window cannot close before it opens."""
        with pytest.raises(ValueError, match="business hours"):
            calendar().add_business_hours(chicago("2026-06-15 10:00"), -1)


class TestBusinessDaysBetween:
    def test_over_a_weekend(self) -> None:
        """Friday noon to Monday noon is one business day: half of each working day."""
        assert calendar().business_days_between(chicago("2026-06-12 12:00"), chicago("2026-06-15 12:00")) == 1.0

    def test_part_days_by_time_of_day(self) -> None:
        """Friday 18:00 to Monday 09:00 is a quarter of Friday and 9/24 of Monday."""
        assert calendar().business_days_between(chicago("2026-06-12 18:00"), chicago("2026-06-15 09:00")) == 0.625

    def test_holiday_and_weekend_count_zero(self) -> None:
        """Wednesday to Monday midnight across Thanksgiving is Wednesday plus Friday: 2 days."""
        vendor = calendar()
        assert vendor.business_days_between(chicago("2026-11-25 00:00"), chicago("2026-11-30 00:00")) == 2.0

    def test_short_dst_day_counts_as_one_day(self) -> None:
        """Sunday 2026-03-08 has 23 hours in Chicago and still counts as one whole day for a 7-day vendor."""
        vendor = calendar(working_days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
        assert vendor.business_days_between(chicago("2026-03-08 00:00"), chicago("2026-03-09 00:00")) == 1.0

    def test_reversed_interval_is_negative(self) -> None:
        """Swapping start and end changes the sign."""
        vendor = calendar()
        assert vendor.business_days_between(chicago("2026-06-15 12:00"), chicago("2026-06-12 12:00")) == -1.0

    def test_same_instant_is_zero(self) -> None:
        """No time passed, no business days passed."""
        moment = chicago("2026-06-15 12:00")
        assert calendar().business_days_between(moment, moment) == 0.0


class TestGraceDeadline:
    def test_noon_on_next_working_day(self) -> None:
        """A Friday deadline's grace ends Monday 12:00 Chicago time."""
        vendor = calendar()
        assert vendor.grace_deadline(end_of_day_utc(date(2026, 6, 12))) == utc("2026-06-15 17:00")

    def test_skips_holiday(self) -> None:
        """A deadline on the eve of Thanksgiving has grace until Friday noon CST."""
        vendor = calendar()
        assert vendor.grace_deadline(vendor.ship_by(chicago("2026-11-23 10:00"))) == utc("2026-11-27 18:00")
