package cdkcontext

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadMergesFlagsAndLookups(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cdk.json"), []byte(`{"app":"x","context":{"flag":true}}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cdk.context.json"), []byte(`{"availability-zones:account=1:region=r":["a"]}`), 0o644))
	ctx, err := Read(dir)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"flag": true, "availability-zones:account=1:region=r": []any{"a"}}, ctx)
}

func TestReadNamesTheBrokenFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cdk.json"), []byte(`{`), 0o644))
	_, err := Read(dir)
	assert.ErrorContains(t, err, "cdk.json")
}

func TestTheRepositoryContextReads(t *testing.T) {
	ctx, err := Read(filepath.Join("..", ".."))
	require.NoError(t, err)
	assert.Equal(t, true, ctx["@aws-cdk/core:validateAgainstDefaultRules"], "the validator's findings must be errors")
}

func TestPlainUnwrapsJSIIMaps(t *testing.T) {
	wrapped := map[string]any{"k": []any{map[string]any{"$jsii.map": map[string]any{"PrefixListId": "pl-1", "Nested": map[string]any{"$jsii.map": map[string]any{"a": "b"}}}}}}
	assert.Equal(t, map[string]any{"k": []any{map[string]any{"PrefixListId": "pl-1", "Nested": map[string]any{"a": "b"}}}}, Plain(wrapped))
	assert.Equal(t, "x", Plain("x"))
}
