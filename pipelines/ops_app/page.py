"""`GET /status`: the status page, rendered on the server (Jinja2, autoescaped: store names, integration
names and alert messages are data). No script, no build step, nothing fetched from elsewhere: the two
charts are inline SVG drawn here, the styles are inline, and the page refreshes itself every minute.

The answer carries a Content-Security-Policy that allows no script at all, so even a message that got
past the escaping could not run.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import Environment, StrictUndefined

from marketsync.assets.operations.metrics import format_value
from marketsync.assets.operations.status import COLUMNS, OrdersHour, Status, StatusRow, SyncHour

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

# ------------------------------------------------------------------------------------------------ charts
WIDTH, HEIGHT = 560, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 26
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    lines: list[tuple[str, str]]  # (css class, "x,y x,y ..." points)
    dots: list[tuple[str, float, float, str]]  # (css class, x, y, title)
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    empty: bool
    summary: str


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^n at or above `value` (at least 1): a round top for an axis."""
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _hour_label(hour: datetime) -> str:
    return hour.astimezone(UTC).strftime("%H:00")


def _x_ticks(hours: list[datetime]) -> list[Tick]:
    slot = PLOT_W / max(len(hours), 1)
    return [Tick(LEFT + i * slot + slot / 2, HEIGHT - 8, _hour_label(h)) for i, h in enumerate(hours) if i % 4 == 0]


def _y_ticks(top: float, label) -> list[Tick]:
    return [Tick(LEFT - 6, TOP + PLOT_H - PLOT_H * f, label(top * f)) for f in (0, 0.5, 1)]


def orders_chart(series: list[OrdersHour]) -> Chart:
    """Bars: orders per hour, the current hour last."""
    top = _nice_ceiling(max((p.orders for p in series), default=0))
    slot = PLOT_W / max(len(series), 1)
    bars = []
    for i, point in enumerate(series):
        h = PLOT_H * point.orders / top
        bars.append(Bar(LEFT + i * slot + 1, TOP + PLOT_H - h, max(slot - 2, 1), h,
                        f"{_hour_label(point.hour)} UTC: {point.orders} order{'s' if point.orders != 1 else ''}"))
    total = sum(p.orders for p in series)
    busiest = max(series, key=lambda p: p.orders, default=None)
    summary = (f"{total} orders in the last 24 h" +
               (f", busiest hour {_hour_label(busiest.hour)} UTC with {busiest.orders}" if busiest and total else ""))
    return Chart(bars, [], [], _y_ticks(top, lambda v: f"{v:g}"), _x_ticks([p.hour for p in series]), total == 0,
                 summary)


def _seconds(ms: float) -> str:
    seconds = ms / 1000
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    return format_value(seconds, "seconds")


def durations_chart(series: list[SyncHour]) -> Chart:
    """Lines: the median and the 95th percentile of the sync durations per hour; a red dot over an hour
    with failed operations."""
    top = _nice_ceiling(max((p.p95_ms or 0 for p in series), default=0))
    slot = PLOT_W / max(len(series), 1)
    lines, dots = [], []
    for name, attribute in (("p95", "p95_ms"), ("p50", "p50_ms")):
        points = [(LEFT + i * slot + slot / 2, TOP + PLOT_H - PLOT_H * min(getattr(p, attribute), top) / top)
                  for i, p in enumerate(series) if getattr(p, attribute) is not None]
        if points:
            lines.append((name, " ".join(f"{x:.1f},{y:.1f}" for x, y in points)))
    for i, p in enumerate(series):
        if p.runs == 0 or p.p50_ms is None:
            continue
        x = LEFT + i * slot + slot / 2
        title = (f"{_hour_label(p.hour)} UTC: {p.runs} sync operation{'s' if p.runs != 1 else ''}, {p.failed} failed; "
                 f"median {_seconds(p.p50_ms)}, 95th percentile {_seconds(p.p95_ms or 0)}, "
                 f"longest {_seconds(p.max_ms or 0)}")
        y = TOP + PLOT_H - PLOT_H * min(p.p95_ms or 0, top) / top
        dots.append(("failed" if p.failed else "p95", x, y, title))
    runs = sum(p.runs for p in series)
    failed = sum(p.failed for p in series)
    summary = f"{runs} sync operations in the last 24 h, {failed} failed"
    return Chart([], lines, dots, _y_ticks(top, lambda v: _seconds(v) if v else "0"),
                 _x_ticks([p.hour for p in series]), runs == 0, summary)


# -------------------------------------------------------------------------------------------------- rows
def figure(row: StatusRow, metric: str) -> tuple[str, str]:
    """(text, state) of a row's figure for a column; ("", "") when the integration has none."""
    reading = row.figures.get(metric)
    if reading is None:
        return "", ""
    return format_value(reading.value, reading.unit), reading.state


def since(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    return "for " + format_value((now - moment).total_seconds(), "seconds")


TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>{{ headline_title }} · marketsync status</title>
<style>
:root { --red: #c62828; --red-bg: #fdecea; --amber: #b26a00; --amber-bg: #fff4e0; --green: #2e7d32;
        --green-bg: #e8f5e9; --ink: #1d2330; --muted: #697386; --line: #e3e8ef; --card: #fff; --bg: #f5f7fa;
        --blue: #3b6fd4; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem; padding: 1.1rem 1.5rem;
         background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 1.25rem; }
header .scope, header .updated { color: var(--muted); }
header .updated { margin-left: auto; }
main { padding: 1.25rem 1.5rem 2rem; max-width: 1500px; margin: 0 auto; }
.headline { display: flex; align-items: center; gap: .9rem; padding: 1rem 1.25rem; border-radius: 10px;
            margin-bottom: 1rem; font-size: 1.1rem; font-weight: 600; }
.headline.error { background: var(--red-bg); color: var(--red); }
.headline.warn { background: var(--amber-bg); color: var(--amber); }
.headline.ok { background: var(--green-bg); color: var(--green); }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: .75rem; margin-bottom: 1rem; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .8rem 1rem; }
.tile .n { font-size: 1.7rem; font-weight: 650; line-height: 1.1; }
.tile .what { color: var(--muted); }
.tile.error .n { color: var(--red); } .tile.warn .n { color: var(--amber); } .tile.ok .n { color: var(--green); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: .75rem;
          margin-bottom: 1.25rem; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .8rem 1rem; }
figcaption { display: flex; justify-content: space-between; gap: 1rem; margin-bottom: .3rem; }
figcaption b { font-weight: 600; } figcaption span { color: var(--muted); font-size: .9em; }
svg { width: 100%; height: auto; display: block; }
svg .axis { stroke: var(--line); } svg .grid { stroke: var(--line); stroke-dasharray: 2 3; }
svg text { fill: var(--muted); font-size: 11px; }
svg .bar { fill: var(--blue); opacity: .85; } svg .bar:hover { opacity: 1; }
svg polyline { fill: none; stroke-width: 2; stroke-linejoin: round; }
svg polyline.p50 { stroke: var(--blue); } svg polyline.p95 { stroke: #8e99ab; stroke-dasharray: 4 3; }
svg circle.p95 { fill: #8e99ab; } svg circle.failed { fill: var(--red); }
svg .nodata { font-size: 13px; }
.legend { color: var(--muted); font-size: .85em; margin-top: .2rem; }
.legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin: 0 .3rem 0 .8rem; }
.legend i.p50 { background: var(--blue); } .legend i.p95 { background: #8e99ab; }
.legend i.failed { width: 8px; height: 8px; border-radius: 50%; background: var(--red); }
h2 { font-size: 1.05rem; margin: 1.2rem 0 .5rem; }
table { width: 100%; table-layout: fixed; border-collapse: collapse; background: var(--card);
        border: 1px solid var(--line);
        border-radius: 10px; overflow: hidden; }
th, td { text-align: left; padding: .5rem .7rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85em; background: #fafbfc; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.num.warn { color: var(--amber); font-weight: 600; } td.num.error { color: var(--red); font-weight: 600; }
tr.error td:first-child { box-shadow: inset 4px 0 var(--red); }
tr.warn td:first-child { box-shadow: inset 4px 0 var(--amber); }
tr.ok td:first-child { box-shadow: inset 4px 0 var(--green); }
.badge { display: inline-flex; align-items: center; gap: .35rem; font-weight: 600; white-space: nowrap; }
.badge::before { content: ""; width: .7rem; height: .7rem; border-radius: 50%; background: currentColor; }
.badge.error { color: var(--red); } .badge.warn { color: var(--amber); } .badge.ok { color: var(--green); }
.store b { display: block; } .store small { color: var(--muted); }
ul.causes { margin: 0; padding: 0; list-style: none; }
ul.causes li { margin: 0 0 .25rem; padding-left: .9rem; position: relative; overflow-wrap: anywhere; }
ul.causes li::before { content: ""; position: absolute; left: 0; top: .5em; width: .45rem; height: .45rem;
                       border-radius: 50%; }
ul.causes li.error::before { background: var(--red); } ul.causes li.warn::before { background: var(--amber); }
ul.causes small { color: var(--muted); }
details { margin-top: 1.2rem; } summary { cursor: pointer; font-weight: 600; margin-bottom: .5rem; }
.quiet { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>marketsync status</h1>
  <span class="scope">{{ scope }}</span>
  <span class="updated">updated {{ now.strftime("%Y-%m-%d %H:%M:%S") }} UTC · refreshes every minute</span>
</header>
<main>
  <div class="headline {{ headline_state }}" id="headline">{{ headline }}</div>

  <section class="tiles" aria-label="summary">
    {% for state, what in tiles %}
    <div class="tile {{ state }}"><div class="n">{{ status.count(state) }}</div>
      <div class="what">integrations {{ what }}</div></div>
    {% endfor %}
    <div class="tile"><div class="n">{{ status.store_count }}</div>
      <div class="what">store{{ "s" if status.store_count != 1 }}</div></div>
  </section>

  <section class="charts">
    {% for chart, title, id in charts %}
    <figure id="{{ id }}">
      <figcaption><b>{{ title }}</b><span>{{ chart.summary }}</span></figcaption>
      <svg viewBox="0 0 {{ width }} {{ height }}" role="img" aria-label="{{ title }}: {{ chart.summary }}">
        {% for t in chart.y_ticks %}
        <line class="{{ 'axis' if loop.first else 'grid' }}" x1="{{ left }}" x2="{{ width - right }}"
              y1="{{ t.y }}" y2="{{ t.y }}"/>
        <text x="{{ t.x }}" y="{{ t.y + 4 }}" text-anchor="end">{{ t.label }}</text>
        {% endfor %}
        {% for t in chart.x_ticks %}
        <text x="{{ t.x }}" y="{{ t.y }}" text-anchor="middle">{{ t.label }}</text>
        {% endfor %}
        {% for b in chart.bars %}
        <rect class="bar" x="{{ '%.1f'|format(b.x) }}" y="{{ '%.1f'|format(b.y) }}"
              width="{{ '%.1f'|format(b.w) }}" height="{{ '%.1f'|format(b.h) }}"><title>{{ b.title }}</title></rect>
        {% endfor %}
        {% for css, points in chart.lines %}
        <polyline class="{{ css }}" points="{{ points }}"/>
        {% endfor %}
        {% for css, x, y, title in chart.dots %}
        <circle class="{{ css }}" cx="{{ '%.1f'|format(x) }}" cy="{{ '%.1f'|format(y) }}"
                r="{{ 4 if css == 'failed' else 2.5 }}"><title>{{ title }}</title></circle>
        {% endfor %}
        {% if chart.empty %}
        <text class="nodata" x="{{ left + plot_w / 2 }}" y="{{ top + plot_h / 2 }}"
              text-anchor="middle">nothing in the last 24 hours</text>
        {% endif %}
      </svg>
      {% if id == "sync-durations" %}
      <div class="legend"><i class="p50"></i>median<i class="p95"></i>95th percentile
        <i class="failed"></i>an hour with failed operations</div>
      {% endif %}
    </figure>
    {% endfor %}
  </section>

  {% macro table(rows, id) %}
  <table id="{{ id }}">
    <colgroup><col style="width: 6.5rem"><col style="width: 11rem"><col style="width: 9rem">
      <col span="5" style="width: 7.5rem"><col></colgroup>
    <thead><tr><th>state</th><th>store</th><th>integration</th><th>order import lag</th><th>stock push lag</th>
      <th>queue</th><th>dead letters</th><th>sync errors (1 h)</th><th>cause</th></tr></thead>
    <tbody>
    {% for row in rows %}
    <tr class="{{ row.state }}" data-store="{{ row.store }}" data-integration="{{ row.integration }}"
        data-state="{{ row.state }}">
      <td><span class="badge {{ row.state }}">{{ labels[row.state] }}</span></td>
      <td class="store"><b>{{ row.store }}</b>
        {%- if row.store_name %}<small>{{ row.store_name }}</small>{% endif %}</td>
      <td>{{ row.integration }}</td>
      {% for metric in columns %}
      {% set text, state = figure(row, metric) %}
      <td class="num {{ state }}">{% if text %}{{ text }}{% else %}<span class="quiet">–</span>{% endif %}</td>
      {% endfor %}
      <td>
      {% if row.causes %}
        <ul class="causes">
        {% for c in row.causes %}
          <li class="{{ c.severity }}">{{ c.text }}
          {%- if c.since %} <small>{{ since(c.since, now) }}
            {%- if c.occurrences > 1 %}, {{ c.occurrences }} times{% endif %}
            {%- if c.acknowledged %}, acknowledged{% endif %}</small>{% endif %}</li>
        {% endfor %}
        </ul>
      {% else %}<span class="quiet">—</span>{% endif %}
      </td>
    </tr>
    {% endfor %}
    </tbody>
  </table>
  {% endmacro %}

  <h2>Needs attention ({{ attention|length }})</h2>
  {% if attention %}
  {{ table(attention, "attention") }}
  {% else %}
  <p class="quiet" id="attention">Nothing: every integration is within its thresholds and no alert is open.</p>
  {% endif %}

  <details id="healthy-list"{% if not attention %} open{% endif %}>
    <summary>Healthy ({{ healthy|length }})</summary>
    {% if healthy %}{{ table(healthy, "healthy") }}{% else %}<p class="quiet">None.</p>{% endif %}
  </details>
</main>
</body>
</html>
"""

_ENVIRONMENT = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_PAGE = _ENVIRONMENT.from_string(TEMPLATE)
_LABELS = {"error": "red", "warn": "amber", "ok": "green"}


def render_status(status: Status, orders: list[OrdersHour], durations: list[SyncHour], *, scope: str,
                  now: datetime | None = None) -> str:
    """The status page's HTML."""
    now = now or datetime.now(UTC)
    attention = [r for r in status.rows if r.state != "ok"]
    healthy = [r for r in status.rows if r.state == "ok"]
    red, amber = status.count("error"), status.count("warn")
    if red:
        headline, state = f"{red} integration{'s' if red != 1 else ''} failing" + (
            f", {amber} need{'s' if amber == 1 else ''} a look" if amber else ""), "error"
    elif amber:
        headline, state = f"{amber} integration{'s' if amber != 1 else ''} need{'s' if amber == 1 else ''} a look", \
            "warn"
    elif status.rows:
        headline, state = "All integrations are healthy", "ok"
    else:
        headline, state = "No integrations yet", "ok"
    return _PAGE.render(
        status=status, attention=attention, healthy=healthy, headline=headline, headline_state=state,
        headline_title={"error": "Failing", "warn": "Needs a look", "ok": "Healthy"}[state],
        charts=[(orders_chart(orders), "Orders per hour", "orders-per-hour"),
                (durations_chart(durations), "Sync durations", "sync-durations")],
        tiles=[("error", "red"), ("warn", "amber"), ("ok", "green")], scope=scope, now=now, columns=COLUMNS,
        labels=_LABELS, figure=figure, since=since,
        width=WIDTH, height=HEIGHT, left=LEFT, right=RIGHT, top=TOP, plot_w=PLOT_W, plot_h=PLOT_H)
