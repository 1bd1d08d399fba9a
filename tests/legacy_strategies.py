"""Hypothesis strategies for legacy YAML documents (unicode, "/" in ids, empty maps, long lists)."""

from __future__ import annotations

from hypothesis import strategies as st

from provider_store.legacy.document import KNOWN_FIELDS, LegacyDocument, LegacyProvider, near_miss

text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
ids = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1,
            max_size=30),
    st.builds(lambda a, b: f"{a}/{b}", st.from_regex(r"[A-Za-z0-9.-]{1,12}", fullmatch=True),
              st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True)),
)  # fmt: skip
# Provider keys follow rules.PROVIDER_KEY_RULE (letters, digits, ".", "_", "-"; no "..";
# unique regardless of case).
provider_keys = st.from_regex(
    r"[A-Za-z0-9][A-Za-z0-9_-]{0,11}(\.[A-Za-z0-9_-]{1,8})?", fullmatch=True
)
# API keys follow rules.api_key_problem: none, a placeholder (any text ending with
# "not-configured", or blank), or visible ASCII.
api_keys = st.one_of(
    st.just(""),
    st.builds(lambda t: t + "not-configured", text),
    st.text(" ", max_size=3),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=10,
)
# Unknown keys are kept; one that looks like a typo of a known key is refused, so none is drawn.
unknown_keys = text.filter(lambda k: near_miss(k, KNOWN_FIELDS) is None)


@st.composite
def providers(draw: st.DrawFn, key: str) -> LegacyProvider:
    valid = draw(st.dictionaries(ids, text, max_size=draw(st.sampled_from([0, 3, 60]))))
    invalid = draw(st.lists(ids.filter(lambda i: i not in valid), unique=True, max_size=8))
    url = draw(st.sampled_from(["http://", "https://"])) + draw(
        st.from_regex(
            r"[a-z][a-z0-9.-]{0,19}(:[1-9][0-9]{1,3})?(/[\w./~%-]{0,20})?", fullmatch=True
        )
    )
    return LegacyProvider(
        key=key,
        name=draw(text),
        base_api_url=url,
        api_key=draw(api_keys),
        valid_models=valid,
        invalid_models=invalid,
        extra=draw(st.dictionaries(unknown_keys, json_values, max_size=3)),
    )


@st.composite
def documents(draw: st.DrawFn) -> LegacyDocument:
    keys = draw(st.lists(provider_keys, unique_by=str.lower, max_size=5))
    top_keys = text.filter(lambda k: near_miss(k, ("providers",)) is None)
    top = draw(st.dictionaries(top_keys, json_values, max_size=3))
    return LegacyDocument(providers={k: draw(providers(k)) for k in keys}, extra=top)
