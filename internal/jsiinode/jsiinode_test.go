package jsiinode

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNodeKeepsWhatTheCallerChose(t *testing.T) {
	root := filepath.Join("..", "..")
	t.Setenv("JSII_RUNTIME", "")
	t.Setenv("JSII_NODE", "/opt/node/bin/node")
	assert.Equal(t, "", Node(root), "JSII_NODE is the caller's")

	t.Setenv("JSII_NODE", "")
	t.Setenv("JSII_RUNTIME", "node /somewhere/jsii-runtime.js")
	assert.Equal(t, "", Node(root), "JSII_RUNTIME is the caller's")

	t.Setenv("JSII_RUNTIME", "")
	assert.Equal(t, "", Node(t.TempDir()), "no script outside the repository: the runtime's default")

	defer func(n func() int) { cpus = n }(cpus)
	cpus = func() int { return 8 }
	assert.Equal(t, "", Node(root), "more cores than measured: the runtime's default")

	cpus = func() int { return 2 }
	want, err := filepath.Abs(filepath.Join(root, Script))
	require.NoError(t, err)
	assert.Equal(t, want, Node(root))
}

func TestEnvironSetsNodeOnce(t *testing.T) {
	got := environ([]string{"PATH=/bin", "JSII_NODE=", "HOME=/root", "JSII_NODE=/old"}, "/repo/tools/jsii-node")
	assert.Equal(t, []string{"JSII_NODE=/repo/tools/jsii-node", "PATH=/bin", "HOME=/root"}, got)
}

// TestScriptRunsNodeWithTheFlag runs the script as the runtime does (its
// entry point as the only argument) with a stand-in node on PATH that
// prints its arguments: the flag comes first, then the entry point.
func TestScriptRunsNodeWithTheFlag(t *testing.T) {
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "node"), []byte("#!/bin/sh\necho \"$@\"\n"), 0o755))
	script, err := filepath.Abs(filepath.Join("..", "..", Script))
	require.NoError(t, err)
	cmd := exec.Command(script, "/tmp/jsii-runtime.1/bin/jsii-runtime.js")
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "--single-threaded-gc /tmp/jsii-runtime.1/bin/jsii-runtime.js", strings.TrimSpace(string(out)))
}
