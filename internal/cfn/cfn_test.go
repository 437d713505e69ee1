package cfn

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// templates are two stacks: Network exports a security group that App
// imports, with every kind of rule the reader must understand: inline and
// standalone, IPv4, IPv6, prefix lists, all protocols, port ranges, and
// groups named locally or through an export.
func templates(t *testing.T) map[string]Template {
	t.Helper()
	var out map[string]Template
	require.NoError(t, json.Unmarshal([]byte(`{
	"Network": {
		"Resources": {
			"WebSecurityGroupAAAAAAAA": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
				"SecurityGroupIngress": [{"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}],
				"SecurityGroupEgress": [{"CidrIp": "255.255.255.255/32", "IpProtocol": "icmp", "FromPort": 252, "ToPort": 86}]}},
			"AppSecurityGroupBBBBBBBB": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
				"SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIpv6": "::/0"}]}},
			"AppFromWeb": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
				"GroupId": {"Fn::GetAtt": ["AppSecurityGroupBBBBBBBB", "GroupId"]},
				"SourceSecurityGroupId": {"Fn::GetAtt": ["WebSecurityGroupAAAAAAAA", "GroupId"]},
				"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8090}}
		},
		"Outputs": {
			"ExportApp": {"Value": {"Fn::GetAtt": ["AppSecurityGroupBBBBBBBB", "GroupId"]}, "Export": {"Name": "net:ExportApp"}},
			"ExportUnused": {"Value": "x", "Export": {"Name": "net:ExportUnused"}}
		}
	},
	"App": {
		"Resources": {
			"AppToAnywhere": {"Type": "AWS::EC2::SecurityGroupEgress", "Properties": {
				"GroupId": {"Fn::ImportValue": "net:ExportApp"}, "CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}},
			"AppToPrefixList": {"Type": "AWS::EC2::SecurityGroupEgress", "Properties": {
				"GroupId": {"Fn::ImportValue": "net:ExportApp"}, "DestinationPrefixListId": "pl-123", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}},
			"DbSecurityGroupCCCCCCCC": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}},
			"DbFromApp": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
				"GroupId": {"Fn::GetAtt": ["DbSecurityGroupCCCCCCCC", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5433,
				"SourceSecurityGroupId": {"Fn::ImportValue": "net:ExportApp"}}},
			"Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"SecurityGroups": [{"Fn::ImportValue": "net:ExportApp"}]}}
		}
	}}`), &out))
	return out
}

func TestFlowsReadEveryRuleKindAndFollowExports(t *testing.T) {
	flows, err := Flows(templates(t))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"AppSecurityGroup egress -1/all to ::/0",
		"AppSecurityGroup egress tcp/443 to 0.0.0.0/0",
		"AppSecurityGroup egress tcp/443 to pl-123",
		"AppSecurityGroup ingress tcp/8080-8090 from WebSecurityGroup",
		"DbSecurityGroup ingress tcp/5432-5433 from AppSecurityGroup",
		"WebSecurityGroup ingress tcp/443 from 0.0.0.0/0",
	}, flows, "the deny-all placeholder opens nothing and is left out")
}

func TestFlowsNameAGroupTheyCannotResolve(t *testing.T) {
	tpls := templates(t)
	rule := func(id string) map[string]any {
		props, err := Get(tpls["App"], "Resources", id, "Properties")
		require.NoError(t, err)
		return Object(props)
	}
	rule("AppToAnywhere")["GroupId"] = "sg-123"
	// The CDK names a standalone rule's group by GetAtt; a Ref is not read.
	rule("DbFromApp")["GroupId"] = map[string]any{"Ref": "DbSecurityGroupCCCCCCCC"}
	_, err := Flows(tpls)
	assert.ErrorContains(t, err, "App/AppToAnywhere: cannot tell which security group")
	assert.ErrorContains(t, err, "App/DbFromApp: cannot tell which security group")
}

func TestExportMapListsConsumersAndUnusedExports(t *testing.T) {
	assert.Equal(t, "Network ExportApp -> App\nNetwork ExportUnused -> (unused: kept alive with ExportValue?)\n", ExportMap(templates(t)))
}

func TestResourcesByType(t *testing.T) {
	groups := Resources(templates(t)["Network"], "AWS::EC2::SecurityGroup")
	assert.Len(t, groups, 2)
	assert.Contains(t, groups, "WebSecurityGroupAAAAAAAA")
}

func TestUnhashed(t *testing.T) {
	assert.Equal(t, "ServiceSecurityGroup", Unhashed("ServiceSecurityGroup1E2A3B4C"))
	assert.Equal(t, "SubnetGroup", Unhashed("SubnetGroup"))
}

func TestEachVisitsResourcesInOrder(t *testing.T) {
	var seen []string
	n := Each(templates(t), "AWS::EC2::SecurityGroup", func(stack, id string, _ map[string]any) { seen = append(seen, stack+"/"+id) })
	assert.Equal(t, []string{"App/DbSecurityGroupCCCCCCCC", "Network/AppSecurityGroupBBBBBBBB", "Network/WebSecurityGroupAAAAAAAA"}, seen)
	assert.Equal(t, 3, n)
	assert.Equal(t, 8, Each(templates(t), "", func(string, string, map[string]any) {}), "every resource of every type")
	assert.Equal(t, []string{"AppSecurityGroupBBBBBBBB", "WebSecurityGroupAAAAAAAA"}, IDs(templates(t)["Network"], "AWS::EC2::SecurityGroup"))
}

func TestExportsAndReferences(t *testing.T) {
	exports := Exports(templates(t))
	assert.Len(t, exports, 2)
	app := exports["net:ExportApp"]
	assert.Equal(t, "Network", app.Stack)
	assert.Equal(t, "AppSecurityGroupBBBBBBBB", RefID(app.Value))
	assert.Equal(t, "Db", RefID(map[string]any{"Ref": "Db"}))
	assert.Empty(t, RefID(map[string]any{"Fn::ImportValue": "net:ExportApp"}))
	assert.Empty(t, RefID("x"))
}
