package ingest

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// spread is the median, minimum and maximum of one figure over the
// repetitions.
type spread struct {
	Median, Min, Max float64
	N                int
}

func summarize(vals []float64) spread {
	if len(vals) == 0 {
		return spread{}
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{Median: med, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// format writes the median and, if the repetitions differ, the range.
func (s spread) format(f func(float64) string) string {
	if s.N == 0 {
		return "–"
	}
	m := f(s.Median)
	if s.N == 1 {
		return m
	}
	lo, hi := f(s.Min), f(s.Max)
	if lo == hi {
		return m
	}
	return m + " (" + lo + "–" + hi + ")"
}

// thousands formats a rate: whole numbers with thousands separators from
// 100 up, three significant digits below.
func thousands(x float64) string {
	if math.Abs(x) < 100 {
		return sig(x, 3)
	}
	digits := strconv.FormatInt(int64(math.Round(x)), 10)
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// count formats a whole number with thousands separators.
func count(x float64) string {
	if math.Abs(x) < 100 {
		return strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	}
	return thousands(x)
}

// sig formats x with n significant digits, without an exponent.
func sig(x float64, n int) string {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	decimals := max(0, n-1-int(math.Floor(math.Log10(math.Abs(x)))))
	return strconv.FormatFloat(x, 'f', decimals, 64)
}

// ratio formats a ratio like "0.012×" or "35×".
func ratio(x float64) string {
	if x >= 100 {
		return thousands(x) + "×"
	}
	return sig(x, 2) + "×"
}

// mib formats bytes as whole MiB.
func mib(b float64) string { return strconv.FormatFloat(b/(1<<20), 'f', 0, 64) }
