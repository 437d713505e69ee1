package gobuild

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSourceHashFollowsTheSources: the function's asset hash changes with
// its code, its imports and the module's dependencies, and not with tests.
func TestSourceHashFollowsTheSources(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(content), 0o644))
	}
	write("go.mod", "module m\n")
	write("go.sum", "")
	write("cmd/f/main.go", "package main\n")
	write("internal/q/q.go", "package q\n")
	f := Function{Command: "cmd/f", Imports: []string{"internal/q"}}
	hash := func() string {
		h, err := f.SourceHash(root)
		require.NoError(t, err)
		return h
	}
	base := hash()
	write("cmd/f/main_test.go", "package main\n// a test\n")
	assert.Equal(t, base, hash(), "a test file changes no deployed code")
	for _, name := range []string{"internal/q/q.go", "cmd/f/main.go", "go.sum"} {
		write(name, "package changed\n")
		assert.NotEqual(t, base, hash(), "%s changed", name)
		base = hash()
	}
	definition, err := Function{Command: "internal/q"}.PackageHash(root)
	require.NoError(t, err)
	write("go.sum", "x")
	again, err := Function{Command: "internal/q"}.PackageHash(root)
	require.NoError(t, err)
	assert.Equal(t, definition, again, "the user's definition does not follow dependency bumps")
}
