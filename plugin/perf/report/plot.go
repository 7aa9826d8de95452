package report

import (
	"strconv"
	"strings"
)

// Geometry of a plot, in SVG user units (the page scales it to fit).
const (
	plotWidth    = 900
	plotHeight   = 380 // axes and plot area, without the legend
	marginLeft   = 72
	marginRight  = 24
	marginTop    = 16
	marginBottom = 56
	legendRow    = 22
)

// plot is an SVG chart ready for the template: every coordinate is
// computed here, the template only writes elements.
type plot struct {
	ID, Title     string
	Width, Height int
	// Empty means no result has a request: the page says "no requests".
	Empty  bool
	Frame  rect
	X, Y   axis
	Series []series
	Legend []legendItem
}

type rect struct{ X, Y, W, H float64 }

type axis struct {
	Label          string
	LabelX, LabelY float64
	// Rotate is the label's rotation in degrees (-90 for the y axis).
	Rotate int
	Ticks  []tick
}

// tick is a tick mark with its label and its grid line across the plot.
type tick struct {
	Text                           string
	X1, Y1, X2, Y2                 float64 // grid line
	TextX, TextY                   float64
	Anchor                         string
	MarkX1, MarkY1, MarkX2, MarkY2 float64 // tick mark outside the frame
}

type series struct {
	Name, Colour string
	Path         string
	// Fill is the fill opacity: histograms are filled, lines are not.
	Fill    string
	Markers []marker
}

// marker is a point worth a dot and a tooltip (the named percentiles).
type marker struct {
	X, Y  float64
	Title string
}

type legendItem struct {
	Name, Colour string
	X, Y         float64
	// Note says why a result has no line ("no requests").
	Note string
}

// newPlot lays out the frame and the legend for n results.
func newPlot(id, title string, names, colours []string, empty []bool) *plot {
	p := &plot{ID: id, Title: title, Width: plotWidth}
	p.Frame = rect{X: marginLeft, Y: marginTop, W: plotWidth - marginLeft - marginRight, H: plotHeight - marginTop - marginBottom}
	for i, n := range names {
		it := legendItem{Name: n, Colour: colours[i], X: marginLeft, Y: plotHeight + float64(i)*legendRow}
		if empty[i] {
			it.Note = "(no requests)"
		}
		p.Legend = append(p.Legend, it)
	}
	p.Height = plotHeight + len(names)*legendRow + 8
	return p
}

// setAxes places the ticks and labels of both scales on the frame.
func (p *plot) setAxes(xs, ys scale, xLabel, yLabel string, xText func(float64) string) {
	f := p.Frame
	bottom := f.Y + f.H
	p.X = axis{Label: xLabel, LabelX: f.X + f.W/2, LabelY: bottom + 44}
	for _, v := range xs.ticks {
		x := xs.pos(v)
		p.X.Ticks = append(p.X.Ticks, tick{
			Text: xText(v), X1: x, Y1: f.Y, X2: x, Y2: bottom,
			TextX: x, TextY: bottom + 20, Anchor: "middle",
			MarkX1: x, MarkY1: bottom, MarkX2: x, MarkY2: bottom + 5,
		})
	}
	p.Y = axis{Label: yLabel, LabelX: 18, LabelY: f.Y + f.H/2, Rotate: -90}
	for _, v := range ys.ticks {
		y := ys.pos(v)
		p.Y.Ticks = append(p.Y.Ticks, tick{
			Text: tickLabel(v), X1: f.X, Y1: y, X2: f.X + f.W, Y2: y,
			TextX: f.X - 9, TextY: y + 4, Anchor: "end",
			MarkX1: f.X - 5, MarkY1: y, MarkX2: f.X, MarkY2: y,
		})
	}
}

// pathBuilder writes an SVG path with one decimal per coordinate.
type pathBuilder struct{ b strings.Builder }

func (pb *pathBuilder) move(x, y float64) { pb.cmd('M', x, y) }
func (pb *pathBuilder) line(x, y float64) { pb.cmd('L', x, y) }

func (pb *pathBuilder) cmd(c byte, x, y float64) {
	if pb.b.Len() > 0 {
		pb.b.WriteByte(' ')
	}
	pb.b.WriteByte(c)
	pb.b.WriteString(num(x))
	pb.b.WriteByte(' ')
	pb.b.WriteString(num(y))
}

func (pb *pathBuilder) String() string { return pb.b.String() }

// num prints a coordinate with one decimal, enough at this size.
func num(v float64) string {
	return strconv.FormatFloat(v, 'f', 1, 64)
}
