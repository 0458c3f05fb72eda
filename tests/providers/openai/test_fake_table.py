"""The fake produces what the endpoint table asks: every result field and group key of every usage endpoint."""

from __future__ import annotations

from dataclasses import replace

import usage_frames as uf
from usage_frames._core.schema import Field
from usage_frames.providers.openai.endpoints import ENDPOINTS
from usage_frames.providers.openai.fake import FakeOrganization
from usage_frames.providers.openai.fake.streams import FIELD_SOURCES, default_streams, field_sources, unproducible


def test_fake__its_streams_produce_every_field_and_key_of_the_table():
    assert unproducible(default_streams()) == []


def test_fake__a_field_the_table_gains_is_reported_not_answered_silently():
    embeddings = ENDPOINTS["embeddings"]
    grown = {**ENDPOINTS, "embeddings": replace(embeddings, fields=(*embeddings.fields, Field("input_video_tokens")))}
    problems = unproducible(default_streams(), grown)
    assert problems
    assert all(p.startswith("embeddings.input_video_tokens: no quantity 'input_video_tokens'") for p in problems)


def test_fake__a_group_key_the_table_gains_is_reported():
    images = ENDPOINTS["images"]
    grown = {**ENDPOINTS, "images": replace(images, group_by=(*images.group_by, "service_tier"))}
    assert [p for p in unproducible(default_streams(), grown) if p.startswith("images:")] == [
        "images: stream keys ['api_key_id', 'model', 'project_id', 'size', 'source', 'user_id'] are not its group keys"
    ] * 3


def test_fake__field_sources_cover_exactly_the_table_fields():
    assert set(FIELD_SOURCES) == {name for name, ep in ENDPOINTS.items() if not ep.priced}
    for name, sources in FIELD_SOURCES.items():
        assert list(sources) == [f.name for f in ENDPOINTS[name].fields], name
        assert sources == field_sources(ENDPOINTS[name])


def test_fake__completions_input_tokens_add_up_their_breakdown_and_embeddings_count_their_own():
    org = FakeOrganization()
    start, end = "2026-10-01", "2026-10-02"
    parts = ("input_cached_tokens", "input_cache_write_tokens", "input_uncached_tokens")
    total = org.total("completions", "input_tokens", start, end)
    assert total > 0
    assert total == sum(org.total("completions", p, start, end) for p in parts)
    df = uf.Client.fake().embeddings(start, end)
    assert int(df["input_tokens"].sum()) == org.total("embeddings", "input_tokens", start, end)
