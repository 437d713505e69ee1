package cfn

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetNamesWhatItCouldNotRead(t *testing.T) {
	tpl := templates(t)["App"]
	v, err := Get(tpl, "Resources", "DbFromApp", "Properties", "FromPort")
	require.NoError(t, err)
	assert.Equal(t, 5432.0, v)
	v, err = Get(tpl, "Resources", "Task", "Properties", "SecurityGroups", 0, "Fn::ImportValue")
	require.NoError(t, err)
	assert.Equal(t, "net:ExportApp", v)
	for _, tt := range []struct {
		path []any
		want string
	}{
		{[]any{"Resources", "Nope"}, `Resources: no key "Nope" (it has AppToAnywhere, AppToPrefixList, DbFromApp, DbSecurityGroupCCCCCCCC, Task)`},
		{[]any{"Resources", "Task", "Properties", "SecurityGroups", 3}, "Resources.Task.Properties.SecurityGroups: no element 3 (it has 1)"},
		{[]any{"Resources", "Task", "Type", "x"}, "Resources.Task.Type: want an object, found a string"},
		{[]any{"Resources", "Task", "Properties", 0}, "Resources.Task.Properties: want a list, found an object"},
		{[]any{"Resources", 1.5}, "path element 1.5 is neither a key nor an index"},
	} {
		_, err := Get(tpl, tt.path...)
		assert.EqualError(t, err, tt.want)
	}
}

// malformed is a template of every shape the readers must survive: they
// skip it, and Check reports it.
func malformed(t *testing.T) Template {
	t.Helper()
	var tpl Template
	require.NoError(t, json.Unmarshal([]byte(`{
		"Resources": {
			"List": [1, 2],
			"NoType": {"Properties": {}},
			"StringProps": {"Type": "AWS::EC2::SecurityGroup", "Properties": "open", "Metadata": []},
			"Fine": {"Type": "AWS::SNS::Topic"}
		},
		"Outputs": {"Text": "x", "BadExport": {"Value": 1, "Export": "name"}}
	}`), &tpl))
	return tpl
}

func TestCheckReportsEveryUnexpectedShape(t *testing.T) {
	errs := Check(malformed(t))
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	assert.Equal(t, []string{
		"Resources.List: want an object, found a list",
		"Resources.NoType.Type: want a string, found nothing",
		"Resources.StringProps.Properties: want an object, found a string",
		"Resources.StringProps.Metadata: want an object, found a list",
		"Outputs.BadExport.Export: want an object, found a string",
		"Outputs.Text: want an object, found a string",
	}, got)
	assert.Empty(t, Check(templates(t)["Network"]))
	assert.EqualError(t, Check(Template{"Resources": "none"})[0], "Resources: want an object, found a string")
}

func TestReadersSurviveUnexpectedShapes(t *testing.T) {
	tpls := map[string]Template{"Bad": malformed(t)}
	assert.NotPanics(t, func() {
		assert.Equal(t, 3, Each(tpls, "", func(string, string, map[string]any) {}), "the three objects, not the list")
		assert.Len(t, Resources(tpls["Bad"], "AWS::SNS::Topic"), 1)
		assert.Empty(t, Exports(tpls))
		_, _ = Flows(tpls)
		_ = ExportMap(tpls)
		w := NewWorld(tpls)
		w.Each("", func(Ref, map[string]any, map[string]any) {})
		_, _ = w.Resolve("Bad", map[string]any{"Fn::ImportValue": 7})
		_ = w.RolePolicies(Ref{"Bad", "List"})
	})
}
