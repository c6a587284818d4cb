"""The HTML side of analysis/report.py: page constants, escaping and formatting helpers,
tables, and the Report that collects sections and embeds figures. No kmodsim knowledge here
beyond the names of its outputs."""

import base64
import html
import os
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PATCH = "linux-2.6.29-rusty"  # predict_2009.PATCH: the seed patch as posted
MAX_SUBSECTIONS = 20      # sub-folders of a sweep or collection given a section
MAX_TABLE_ROWS = 2000     # longer CSVs are linked, not tabulated
LINKED_ARTEFACTS = [
    ("trace.json", "Chrome trace-event timeline of every task and of module_mutex"),
    ("dmesg.txt", "the run as an initcall_debug dmesg"),
    ("lock_stat.txt", "module_mutex statistics in the format of /proc/lock_stat"),
]
PERFETTO = ("To look at trace.json, open https://ui.perfetto.dev in a browser, choose "
            "\u201cOpen trace file\u201d and pick trace.json (or drag the file onto the page); "
            "the trace is read inside the browser, nothing is uploaded. chrome://tracing "
            "opens it too.")
SWEEP_METRICS = ["makespan_s", "modules_loaded", "failures", "lock.contentions",
                 "lock.wait_total_s", "lock.hold_total_s", "cpu.utilization"]
RUN_HEADLINE = ["makespan_s", "bounds.lower_s", "modules_loaded", "modprobe_runs", "eexist",
                "failures", "lock.acquisitions", "lock.contentions", "lock.wait_total_s",
                "lock.hold_total_s", "lock.utilization", "cpu.utilization"]
VERSION_KEYS = ["kmodsim_version", "simgrid_version", "config_sha256"]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em auto;
max-width:1250px;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.5em}h2{border-bottom:2px solid #ccc;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.5em}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em}
pre{background:#f6f6f6;padding:.8em;overflow:auto;max-height:40em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}
th,td{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f0f0f0}
table.sortable th{cursor:pointer}table.sortable th:hover{background:#e0e0ff}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}.kind{color:#777;font-weight:normal;font-size:.8em}
.note{color:#555;font-size:.9em}details{margin:.6em 0}summary{cursor:pointer;color:#235}
nav ul{columns:2;font-size:.9em}.bad{color:#b00}
"""
SORT_JS = """
document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',
function(){var t=th.closest('table'),b=t.tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th),
d=th.dataset.d==='a'?'d':'a';th.dataset.d=d;var r=Array.from(b.rows);r.sort(function(x,y){
var p=x.cells[i].textContent,q=y.cells[i].textContent,u=parseFloat(p),v=parseFloat(q);
var c=(!isNaN(u)&&!isNaN(v))?u-v:p.localeCompare(q);return d==='a'?c:-c;});
r.forEach(function(x){b.appendChild(x);});});});
"""


def esc(value):
    return html.escape(str(value), quote=True)


def fmt(value):
    """A table cell: integers stay integers, floats get 6 significant digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        v = float(value)
        if v != v:
            return ""
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.6g}"
    return str(value)


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def short(value):
    """A config path as its file name without .yaml (full path in the tooltip)."""
    text = fmt(value)
    if text.endswith((".yaml", ".yml")) and "/" in text:
        return os.path.splitext(os.path.basename(text))[0]
    return text


def table(header, rows, sortable=False, numeric=None, titles=None):
    """An HTML table; every cell escaped. numeric: set of column indexes right-aligned."""
    numeric = set(numeric or [])
    cls = ' class="sortable"' if sortable else ""
    out = [f"<table{cls}><thead><tr>"]
    out += [f"<th>{esc(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for r_i, row in enumerate(rows):
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="n"' if i in numeric or is_number(cell) else ""
            title = ""
            if titles and titles[r_i] and titles[r_i][i]:
                title = f' title="{esc(titles[r_i][i])}"'
            cells.append(f"<td{cls}{title}>{esc(fmt(cell))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def df_table(df, sortable=True):
    rows = [[None if (isinstance(v, float) and v != v) else v for v in r]
            for r in df.itertuples(index=False, name=None)]
    return table(list(df.columns), rows, sortable=sortable)


def kv_table(pairs):
    return table(["key", "value"], [[k, v] for k, v in pairs])


def details(summary_text, body, open_=False):
    return (f"<details{' open' if open_ else ''}><summary>{esc(summary_text)}</summary>"
            f"{body}</details>")


def pre_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f"<pre>{esc(f.read())}</pre>"


class Report:
    """Collects the HTML of the sections; knows where the page and figures go."""

    def __init__(self, out_path, replot):
        self.out_path = out_path
        self.out_dir = os.path.dirname(os.path.abspath(out_path))
        self.replot = replot
        self.sections = []  # (anchor, title, html)
        self.tmp = None

    def figure_dir(self, folder):
        """Where to draw a missing figure: the folder itself, or a temp dir."""
        if os.access(folder, os.W_OK):
            return folder
        if self.tmp is None:
            self.tmp = tempfile.TemporaryDirectory(prefix="kmodsim-report-")
        path = os.path.join(self.tmp.name, str(len(os.listdir(self.tmp.name))))
        os.makedirs(path)
        return path

    def link(self, path, text=None):
        rel = os.path.relpath(os.path.abspath(path), self.out_dir)
        return f'<a href="{esc(rel.replace(os.sep, "/"))}">{esc(text or os.path.basename(path))}</a>'

    def figure(self, png, caption):
        """An embedded PNG (base64), with a link to the SVG beside it when there is one."""
        with open(png, "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        svg = os.path.splitext(png)[0] + ".svg"
        links = ""
        if os.path.isfile(svg) and (self.tmp is None or not svg.startswith(self.tmp.name)):
            links = f" ({self.link(svg, 'SVG')})"
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{esc(caption)}">'
                f"<figcaption>{esc(caption)}{links}</figcaption></figure>")

    def needs_plot(self, figures, sources):
        """Draw again when --replot, when a figure is missing, or when one is older than an
        input it is drawn from (then only if the folder is writable: otherwise the old one)."""
        if self.replot or not all(os.path.isfile(f) for f in figures):
            return True
        newest = max([os.path.getmtime(s) for s in sources if os.path.isfile(s)], default=0.0)
        oldest = min(os.path.getmtime(f) for f in figures)
        return oldest < newest and os.access(os.path.dirname(os.path.abspath(figures[0])), os.W_OK)

    def add(self, anchor, title, body):
        self.sections.append((anchor, title, body))
