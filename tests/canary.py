"""The canary search the secret tests share: no stored form of a secret in any text, JSON or bytea column."""
import base64
from urllib.parse import quote, quote_plus

from sqlalchemy import text


def secret_forms(secret: str) -> set[str]:
    """The forms a leaked secret may take: raw, URL-encoded, base64 (padded or not), and a long-enough
    inner chunk, so a truncated or re-wrapped copy is caught too. The tests' own oracle, independent of
    the production scrubber."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    for encoder in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encoder(raw).decode()
        forms |= {encoded, encoded.rstrip("=")}
    return forms | {secret[5:-3]}


def assert_in_no_column(conn, forms, columns, what: str = "the secret") -> None:
    """Fails naming the first column (of `columns`: schema, table, column, data type rows) that holds any
    of `forms` (raw, URL-encoded, base64 ...)."""
    params = {f"f{i}": form for i, form in enumerate(sorted(forms))}
    for schema, table, column, data_type in columns:
        if data_type == "bytea":
            tests = [f'position(convert_to(:{p}, \'UTF8\') in "{column}") > 0' for p in params]
        else:
            tests = [f'strpos("{column}"::text, :{p}) > 0' for p in params]
        hits = conn.execute(text(f'SELECT count(*) FROM "{schema}"."{table}" WHERE {" OR ".join(tests)}'),  # noqa: S608 - names from the catalog, secrets bound
                            params).scalar_one()
        assert hits == 0, f"{schema}.{table}.{column} holds {what}"
