package readme

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const doc = "# Title\n<!-- table:start -->\nold\n<!-- table:end -->\ntail\n"

func TestReplaceSectionKeepsEverythingOutsideTheMarkers(t *testing.T) {
	got, err := ReplaceSection([]byte(doc), "table", "new\nrows\n")
	require.NoError(t, err)
	assert.Equal(t, "# Title\n<!-- table:start -->\nnew\nrows\n<!-- table:end -->\ntail\n", string(got))
}

func TestSectionReadsTheBody(t *testing.T) {
	got, err := Section([]byte(doc), "table")
	require.NoError(t, err)
	assert.Equal(t, "old\n", got)
}

func TestMissingOrSwappedMarkersAreAnError(t *testing.T) {
	for name, d := range map[string]string{
		"missing": "# Title\n",
		"swapped": "<!-- table:end -->\n<!-- table:start -->\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReplaceSection([]byte(d), "table", "x")
			assert.ErrorContains(t, err, `no section "table"`)
		})
	}
}
