package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"hmpps/hmpps/eval"
)

// Colours of the two metrics' bars.
var (
	ndcgColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	hrColor   = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
)

// writeCharts draws NDCG@10 and HR@10 per method with their 95% intervals,
// one panel per report, and saves the figure as base.svg and base.png.
func writeCharts(reports []*eval.Report, base string) error {
	plots := make([][]*plot.Plot, len(reports))
	for i, r := range reports {
		p, err := metricPlot(r)
		if err != nil {
			return err
		}
		plots[i] = []*plot.Plot{p}
	}
	rows := len(reports)
	methods := len(reports[0].Methods)
	width, height := 18*vg.Centimeter, vg.Length(rows)*(vg.Length(methods)*0.9+3)*vg.Centimeter
	for _, format := range []string{"svg", "png"} {
		var canvas vg.CanvasWriterTo
		switch format {
		case "svg":
			canvas = vgsvg.New(width, height)
		case "png":
			canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(150))}
		}
		dc := draw.New(canvas)
		tiles := draw.Tiles{Rows: rows, Cols: 1, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
			PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 5, PadY: vg.Millimeter * 6}
		for i, canv := range plot.Align(plots, tiles, dc) {
			plots[i][0].Draw(canv[0])
		}
		if err := saveCanvas(canvas, base+"."+format); err != nil {
			return err
		}
	}
	return nil
}

// metricPlot is one report's panel: a horizontal bar pair per method.
func metricPlot(r *eval.Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = r.Label
	p.X.Label.Text = "mean over users, with 95% bootstrap interval"
	p.X.Min, p.X.Max = 0, 1
	// Top right, inside the plot: the first rows are the weak baselines,
	// whose short bars leave that corner empty.
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Millimeter * 3
	p.Legend.ThumbnailWidth = vg.Millimeter * 4
	n := len(r.Methods)
	names := make([]string, n)
	// Each metric's bar sits a fixed distance in data units above or below
	// the method's row, so that its error bar can be drawn at the same
	// place.
	barWidth := vg.Points(9)
	for j, metric := range []eval.Metric{eval.NDCG10, eval.HR10} {
		shift := 0.2
		if j == 1 {
			shift = -0.2
		}
		vals := make(plotter.Values, n)
		errs := make(plotter.XErrors, n)
		pts := make(plotter.XYs, n)
		for i, m := range r.Methods {
			// Methods run top to bottom in report order.
			row := n - 1 - i
			names[row] = m.Name
			e := m.Metrics[metric]
			vals[row] = e.Mean
			errs[row] = struct{ Low, High float64 }{e.Mean - e.Low, e.High - e.Mean}
			pts[row] = plotter.XY{X: e.Mean, Y: float64(row) + shift}
		}
		bars, err := plotter.NewBarChart(vals, barWidth)
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		bars.Horizontal = true
		bars.XMin = shift
		bars.Color = ndcgColor
		if j == 1 {
			bars.Color = hrColor
		}
		bars.LineStyle.Width = 0
		p.Add(bars)
		p.Legend.Add(metric.String(), bars)

		eb, err := plotter.NewXErrorBars(struct {
			plotter.XYer
			plotter.XErrorer
		}{pts, errs})
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		eb.LineStyle.Width = vg.Points(1)
		eb.CapWidth = vg.Points(4)
		p.Add(eb)
	}
	p.NominalY(names...)
	p.Add(plotter.NewGrid())
	return p, nil
}

func saveCanvas(c vg.CanvasWriterTo, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
