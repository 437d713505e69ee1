package linediff

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDiffShowsChangedLinesWithContext(t *testing.T) {
	got := Diff("a\nb\nc\nd\n", "a\nb\nC\nd\n")
	assert.Contains(t, got, "- c")
	assert.Contains(t, got, "+ C")
	assert.Contains(t, got, "  b", "a line of context before the change")
}

func TestDiffOfEqualTextsShowsNoChange(t *testing.T) {
	got := Diff("same\ntext\n", "same\ntext\n")
	assert.Empty(t, got)
}
