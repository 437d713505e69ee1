package codecheck

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBareTypeAssertions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.go")
	require.NoError(t, os.WriteFile(path, []byte(`package x

func f(v any) {
	a := v.(map[string]any)
	b, ok := v.(string)
	var c, ok2 = v.(int)
	switch w := v.(type) {
	case int:
		_ = w
	}
	_ = v.([]any)[0]
	_, _, _, _, _ = a, b, ok, c, ok2
}
`), 0o644))
	got, err := BareTypeAssertions([]string{path})
	require.NoError(t, err)
	assert.Equal(t, []string{path + ":4:7", path + ":11:6"}, got)
	_, err = BareTypeAssertions([]string{filepath.Join(t.TempDir(), "missing.go")})
	assert.Error(t, err)
}
