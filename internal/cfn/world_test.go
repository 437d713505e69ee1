package cfn

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestResolveFollowsReferencesAcrossStacks(t *testing.T) {
	w := NewWorld(templates(t))
	for _, tt := range []struct {
		name  string
		stack string
		value any
		want  Ref
		ok    bool
	}{
		{"a Ref in its stack", "App", map[string]any{"Ref": "DbSecurityGroupCCCCCCCC"}, Ref{"App", "DbSecurityGroupCCCCCCCC"}, true},
		{"a GetAtt", "Network", map[string]any{"Fn::GetAtt": []any{"WebSecurityGroupAAAAAAAA", "GroupId"}}, Ref{"Network", "WebSecurityGroupAAAAAAAA"}, true},
		{"an import, to the producing stack", "App", map[string]any{"Fn::ImportValue": "net:ExportApp"}, Ref{"Network", "AppSecurityGroupBBBBBBBB"}, true},
		{"an export of a literal", "App", map[string]any{"Fn::ImportValue": "net:ExportUnused"}, Ref{}, false},
		{"a Ref to nothing", "App", map[string]any{"Ref": "Missing"}, Ref{"App", "Missing"}, false},
		{"a literal", "App", "sg-123", Ref{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := w.Resolve(tt.stack, tt.value)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
	imported := map[string]any{"Fn::ImportValue": "net:ExportApp"}
	local := map[string]any{"Fn::GetAtt": []any{"AppSecurityGroupBBBBBBBB", "GroupId"}}
	assert.True(t, w.SameTarget("App", imported, "Network", local), "an import and the resource it exports")
	assert.False(t, w.SameTarget("App", imported, "Network", map[string]any{"Ref": "WebSecurityGroupAAAAAAAA"}))
	assert.False(t, w.SameTarget("App", imported, "App", "sg-123"), "a resource is not a literal")
	assert.True(t, w.SameTarget("App", "arn:x", "Network", "arn:x"), "equal literals")
	covers := w.Covers("App", Ref{"Network", "AppSecurityGroupBBBBBBBB"})
	assert.True(t, covers([]any{"x", imported}))
	assert.True(t, covers("*"))
	assert.False(t, covers(map[string]any{"Ref": "DbSecurityGroupCCCCCCCC"}))
}

func TestRolePoliciesFindInlineAndAttachedPolicies(t *testing.T) {
	w := NewWorld(map[string]Template{"S": {"Resources": map[string]any{
		"Role": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"Policies": []any{
			map[string]any{"PolicyName": "inline", "PolicyDocument": "inline-doc"}}}},
		"Attached": map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{
			"Roles": []any{map[string]any{"Ref": "Role"}}, "PolicyDocument": "attached-doc"}},
		"Other": map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{
			"Roles": []any{map[string]any{"Ref": "OtherRole"}}, "PolicyDocument": "other-doc"}},
	}}})
	assert.Equal(t, []any{"inline-doc", "attached-doc"}, w.RolePolicies(Ref{"S", "Role"}))
}

func TestFlatten(t *testing.T) {
	assert.Equal(t, "a", Flatten("a"))
	assert.Equal(t, "1.dkr.ecr.eu-west-1.amazonaws.com/x", Flatten(map[string]any{"Fn::Join": []any{"", []any{
		"1.dkr.ecr.eu-west-1.", map[string]any{"Ref": "AWS::URLSuffix"}, "/x"}}}))
	assert.Equal(t, `{"Ref":"AWS::Region"}`, Flatten(map[string]any{"Ref": "AWS::Region"}))
}
