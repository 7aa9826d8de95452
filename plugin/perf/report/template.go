package report

// pageTemplate is the report page. Plots are laid out in Go (plot.go); the
// template only writes their elements. No xmlns on the SVGs: inline SVG in
// HTML needs none, and the page holds no URL of its own.
const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; color: #1f2328; background: #fff; margin: 24px auto; max-width: 1000px; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.generated { color: #59636e; margin: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; }
td.num { text-align: right; }
.compare { width: 100%; }
.compare td, .compare th { overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 8px; }
dt { color: #59636e; }
dd { margin: 0; overflow-wrap: anywhere; }
.empty { color: #59636e; font-style: italic; }
svg.plot { width: 100%; height: auto; max-width: 900px; display: block; }
svg.plot text { font-size: 12px; fill: #1f2328; }
svg.plot .grid line { stroke: #e6e8eb; }
svg.plot .frame { fill: none; stroke: #59636e; }
svg.plot .mark { stroke: #59636e; }
svg.plot .axis-label { font-size: 13px; font-weight: 600; }
svg.plot path.series { stroke-width: 2; stroke-linejoin: round; }
.swatch { vertical-align: -1px; margin-right: 6px; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="generated">Generated {{.Generated}} by kubectl mesh perf report from {{len .Summaries}} result(s).</p>
</header>

<section id="summary">
<h2>Summary</h2>
<table class="compare">
<thead><tr>{{range $i, $c := index .Compare 0}}<th>{{if $i}}<svg class="swatch" width="12" height="12"><rect width="12" height="12" fill="{{(index $.Summaries (dec $i)).Colour}}"/></svg>{{end}}{{$c}}</th>{{end}}</tr></thead>
<tbody>
{{range $r, $row := .Compare}}{{if $r}}<tr>{{range $i, $c := $row}}{{if $i}}<td>{{$c}}</td>{{else}}<th>{{$c}}</th>{{end}}{{end}}</tr>
{{end}}{{end}}</tbody>
</table>
</section>

<section id="distribution">
<h2>{{.Distribution.Title}}</h2>
{{template "plot" .Distribution}}
</section>

<section id="percentiles">
<h2>{{.Percentiles.Title}}</h2>
{{template "plot" .Percentiles}}
</section>
{{with .MeshLatency}}
<section id="mesh-latency">
<h2>{{.Title}}</h2>
{{template "plot" .}}
</section>
{{end}}{{with .MeshCPU}}
<section id="mesh-cpu">
<h2>{{.Title}}</h2>
{{template "plot" .}}
</section>
{{end}}
<section id="results">
<h2>Results</h2>
{{range .Summaries}}<article class="result">
<h3><svg class="swatch" width="12" height="12"><rect width="12" height="12" fill="{{.Colour}}"/></svg>{{.Name}}</h3>
<dl>
{{range .Fields}}<dt>{{.Label}}</dt><dd>{{.Value}}</dd>
{{end}}{{range .Missing}}<dt>Missing</dt><dd>{{.}}</dd>
{{end}}</dl>
{{if .Empty}}<p class="empty">no requests</p>
{{else}}<table class="latency">
<thead><tr><th>latency (ms)</th>{{range .Latency}}<th>{{.Label}}</th>{{end}}</tr></thead>
<tbody><tr><th></th>{{range .Latency}}<td class="num">{{.Value}}</td>{{end}}</tr></tbody>
</table>
{{end}}</article>
{{end}}</section>
</body>
</html>
{{define "plot"}}{{if .Empty}}<p class="empty" id="{{.ID}}">no requests</p>{{else}}<svg class="plot" id="{{.ID}}" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Title}}">
<g class="grid">{{range .X.Ticks}}<line x1="{{n .X1}}" y1="{{n .Y1}}" x2="{{n .X2}}" y2="{{n .Y2}}"/>{{end}}{{range .Y.Ticks}}<line x1="{{n .X1}}" y1="{{n .Y1}}" x2="{{n .X2}}" y2="{{n .Y2}}"/>{{end}}</g>
<g class="data">{{range .Series}}
<path class="series" data-name="{{.Name}}" d="{{.Path}}" stroke="{{.Colour}}" fill="{{.Colour}}" fill-opacity="{{.Fill}}"><title>{{.Name}}</title></path>{{$c := .Colour}}{{range .Markers}}
<circle class="marker" cx="{{n .X}}" cy="{{n .Y}}" r="3.5" fill="{{$c}}"><title>{{.Title}}</title></circle>{{end}}{{end}}
</g>
<rect class="frame" x="{{n .Frame.X}}" y="{{n .Frame.Y}}" width="{{n .Frame.W}}" height="{{n .Frame.H}}"/>
<g class="axis x-axis">{{range .X.Ticks}}<line class="mark" x1="{{n .MarkX1}}" y1="{{n .MarkY1}}" x2="{{n .MarkX2}}" y2="{{n .MarkY2}}"/><text class="tick" x="{{n .TextX}}" y="{{n .TextY}}" text-anchor="{{.Anchor}}">{{.Text}}</text>{{end}}
<text class="axis-label" x="{{n .X.LabelX}}" y="{{n .X.LabelY}}" text-anchor="middle">{{.X.Label}}</text></g>
<g class="axis y-axis">{{range .Y.Ticks}}<line class="mark" x1="{{n .MarkX1}}" y1="{{n .MarkY1}}" x2="{{n .MarkX2}}" y2="{{n .MarkY2}}"/><text class="tick" x="{{n .TextX}}" y="{{n .TextY}}" text-anchor="{{.Anchor}}">{{.Text}}</text>{{end}}
<text class="axis-label" transform="translate({{n .Y.LabelX}} {{n .Y.LabelY}}) rotate({{.Y.Rotate}})" text-anchor="middle">{{.Y.Label}}</text></g>
<g class="legend">{{range .Legend}}<rect x="{{n .X}}" y="{{n .Y}}" width="14" height="14" fill="{{.Colour}}"/><text class="legend-name" x="{{n .X}}" y="{{n .Y}}" dx="20" dy="11.5">{{.Name}}{{if .Note}} {{.Note}}{{end}}</text>{{end}}</g>
</svg>{{end}}{{end}}`
