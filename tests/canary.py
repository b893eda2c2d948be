"""The canary search the secret tests share: no stored form of a secret in any text, JSON or bytea column."""
from sqlalchemy import text


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
