// Command plot draws throughput and p99 latency against concurrency from
// the CSV that actas-bench -csv appends to, as an SVG, with the standard
// library only.
//
//	go run ./scripts/plot -in sweep.csv -out docs/refresh-sweep.svg
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"strconv"
	"strings"
)

type point struct{ c, tput, p99, bound float64 }

func main() {
	in := flag.String("in", "sweep.csv", "CSV written by actas-bench -csv (closed-loop runs)")
	out := flag.String("out", "sweep.svg", "SVG to write")
	title := flag.String("title", "refresh (RS256) on SQLite: throughput and p99 against concurrency", "title")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) < 2 {
		log.Fatalf("%s: no data (%v)", *in, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(r []string, name string) float64 {
		v, _ := strconv.ParseFloat(r[col[name]], 64)
		return v
	}
	var pts []point
	for _, r := range rows[1:] {
		if r[col["mode"]] != "closed" {
			continue
		}
		pts = append(pts, point{num(r, "concurrency"), num(r, "ok_per_s"), num(r, "p99_ms"), num(r, "bound_per_s")})
	}
	if len(pts) == 0 {
		log.Fatal("no closed-loop rows")
	}
	if err := os.WriteFile(*out, []byte(svg(*title, pts)), 0o644); err != nil {
		log.Fatal(err)
	}
}

const (
	w, h                   = 760, 420
	left, right, top, bott = 70, 70, 40, 50
)

func svg(title string, pts []point) string {
	var maxT, maxP, maxC, bound float64
	for _, p := range pts {
		maxT = math.Max(maxT, math.Max(p.tput, p.bound))
		maxP = math.Max(maxP, p.p99)
		maxC = math.Max(maxC, p.c)
		bound = math.Max(bound, p.bound)
	}
	maxT, maxP = nice(maxT), nice(maxP)
	pw, ph := float64(w-left-right), float64(h-top-bott)
	// x: log2 of concurrency.
	lx := func(c float64) float64 { return left + pw*math.Log2(c)/math.Max(1, math.Log2(maxC)) }
	yt := func(v float64) float64 { return top + ph*(1-v/maxT) }
	yp := func(v float64) float64 { return top + ph*(1-v/maxP) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="22" font-size="14">%s</text>`+"\n", left, esc(title))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", left, top, pw, ph)
	for i := 0; i <= 4; i++ {
		f := float64(i) / 4
		y := top + ph*(1-f)
		fmt.Fprintf(&b, `<line x1="%d" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#eee"/>`, left, left+pw, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#1f77b4">%.0f</text>`, left-6, y+4, f*maxT)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" fill="#d62728">%.0f</text>`+"\n", left+pw+6, y+4, f*maxP)
	}
	for _, p := range pts {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%.0f</text>`, lx(p.c), h-bott+16, p.c)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">concurrent clients (log scale)</text>`+"\n", left+pw/2, h-12)
	fmt.Fprintf(&b, `<text transform="translate(16 %.0f) rotate(-90)" text-anchor="middle" fill="#1f77b4">throughput (ok/s)</text>`, top+ph/2)
	fmt.Fprintf(&b, `<text transform="translate(%d %.0f) rotate(90)" text-anchor="middle" fill="#d62728">p99 latency (ms)</text>`+"\n", w-14, top+ph/2)
	if bound > 0 {
		fmt.Fprintf(&b, `<line x1="%d" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#1f77b4" stroke-dasharray="6 4"/>`, left, left+pw, yt(bound), yt(bound))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="#1f77b4">crypto bound %.0f/s (CPUs / 2 signatures)</text>`+"\n", left+6, yt(bound)-5, bound)
	}
	line := func(color string, y func(point) float64) {
		var d []string
		for _, p := range pts {
			d = append(d, fmt.Sprintf("%.1f,%.1f", lx(p.c), y(p)))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(d, " "), color)
		for _, p := range pts {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, lx(p.c), y(p), color)
		}
		b.WriteString("\n")
	}
	line("#1f77b4", func(p point) float64 { return yt(p.tput) })
	line("#d62728", func(p point) float64 { return yp(p.p99) })
	fmt.Fprintf(&b, `<text x="%.0f" y="%d" fill="#1f77b4">— throughput</text><text x="%.0f" y="%d" fill="#d62728">— p99</text>`+"\n",
		left+pw-170, top+16, left+pw-70, top+16)
	b.WriteString("</svg>\n")
	return b.String()
}

// nice rounds v up to 1, 2 or 5 times a power of ten.
func nice(v float64) float64 {
	if v <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*e {
			return m * e
		}
	}
	return 10 * e
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
