// Package linediff renders the difference between two texts line by line,
// for test failures that print what changed.
package linediff

import "strings"

// Diff renders the lines that differ between want and got, with a little
// context, in unified-diff style (- golden, + synthesized).
func Diff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	// Longest common subsequence table; templates are a few thousand lines.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var ops []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, line{' ', a[i]})
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, line{'+', b[j]})
			j++
		default:
			ops = append(ops, line{'-', a[i]})
			i++
		}
	}
	const context, limit = 3, 200
	var out []string
	last := -1
	for k, op := range ops {
		if op.op == ' ' {
			continue
		}
		for c := max(k-context, last+1); c < k; c++ {
			out = append(out, "  "+ops[c].text)
		}
		out = append(out, string(op.op)+" "+op.text)
		last = k
		if len(out) > limit {
			out = append(out, "... (diff truncated)")
			break
		}
	}
	return strings.Join(out, "\n")
}
