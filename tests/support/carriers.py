"""Carrier configuration for a shop whose carriers are local fakes."""

from __future__ import annotations

from orderflow.testing.carriers import FakeCarrier


def carrier_toml(fakes: dict[str, FakeCarrier], **extra: dict[str, object]) -> str:
    blocks = []
    for code, fake in fakes.items():
        keys = {"base_url": fake.url, "client_id_env": "TEST_CARRIER_ID", "client_secret_env": "TEST_CARRIER_SECRET",
                "api_key_env": "TEST_CARRIER_KEY", **extra.get(code, {})}
        blocks.append(f"[carriers.{code}]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in keys.items()))
    return "".join(blocks)
