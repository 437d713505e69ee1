package cfn

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// templates are two stacks: Network exports a security group that App
// imports, with every kind of rule the reader must understand.
func templates(t *testing.T) map[string]Template {
	t.Helper()
	var out map[string]Template
	require.NoError(t, json.Unmarshal([]byte(`{
	"Network": {
		"Resources": {
			"WebSecurityGroupAAAAAAAA": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
				"SecurityGroupIngress": [{"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}],
				"SecurityGroupEgress": [{"CidrIp": "255.255.255.255/32", "IpProtocol": "icmp", "FromPort": 252, "ToPort": 86}]}},
			"AppSecurityGroupBBBBBBBB": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}},
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
			"Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"SecurityGroups": [{"Fn::ImportValue": "net:ExportApp"}]}}
		}
	}}`), &out))
	return out
}

func TestFlowsReadEveryRuleKindAndFollowExports(t *testing.T) {
	flows, err := Flows(templates(t))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"AppSecurityGroup egress tcp/443 to 0.0.0.0/0",
		"AppSecurityGroup ingress tcp/8080-8090 from WebSecurityGroup",
		"WebSecurityGroup ingress tcp/443 from 0.0.0.0/0",
	}, flows, "the deny-all placeholder opens nothing and is left out")
}

func TestFlowsNameAGroupTheyCannotResolve(t *testing.T) {
	tpls := templates(t)
	tpls["App"]["Resources"].(map[string]any)["AppToAnywhere"].(map[string]any)["Properties"].(map[string]any)["GroupId"] = "sg-123"
	_, err := Flows(tpls)
	assert.ErrorContains(t, err, "App/AppToAnywhere: cannot tell which security group")
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

// TestNetworkPolicyReaderSeesEveryRuleKind guards the reader itself: a rule
// of each shape it must understand is rendered as expected.
func TestNetworkPolicyReaderSeesEveryRuleKind(t *testing.T) {
	templates := map[string]Template{
		"A": {
			"Resources": map[string]any{
				"WebSecurityGroup0123ABCD": map[string]any{"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{
					"SecurityGroupIngress": []any{map[string]any{"IpProtocol": "tcp", "FromPort": 22.0, "ToPort": 22.0, "CidrIp": "0.0.0.0/0"}},
					"SecurityGroupEgress":  []any{map[string]any{"IpProtocol": "-1", "CidrIpv6": "::/0"}},
				}},
			},
			"Outputs": map[string]any{"Out": map[string]any{
				"Value":  map[string]any{"Fn::GetAtt": []any{"WebSecurityGroup0123ABCD", "GroupId"}},
				"Export": map[string]any{"Name": "a:web"},
			}},
		},
		"B": {
			"Resources": map[string]any{
				"DbSecurityGroup89ABCDEF": map[string]any{"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{}},
				"Rule": map[string]any{"Type": "AWS::EC2::SecurityGroupIngress", "Properties": map[string]any{
					"GroupId": map[string]any{"Fn::GetAtt": []any{"DbSecurityGroup89ABCDEF", "GroupId"}}, "IpProtocol": "tcp", "FromPort": 5432.0, "ToPort": 5433.0,
					"SourceSecurityGroupId": map[string]any{"Fn::ImportValue": "a:web"},
				}},
				"Out": map[string]any{"Type": "AWS::EC2::SecurityGroupEgress", "Properties": map[string]any{
					"GroupId": map[string]any{"Fn::ImportValue": "a:web"}, "IpProtocol": "tcp", "FromPort": 443.0, "ToPort": 443.0,
					"DestinationPrefixListId": "pl-123",
				}},
			},
		},
	}
	flows, err := Flows(templates)
	require.NoError(t, err)
	got := strings.Join(flows, "\n")
	want := strings.Join([]string{
		"DbSecurityGroup ingress tcp/5432-5433 from WebSecurityGroup",
		"WebSecurityGroup egress -1/all to ::/0",
		"WebSecurityGroup egress tcp/443 to pl-123",
		"WebSecurityGroup ingress tcp/22 from 0.0.0.0/0",
	}, "\n")
	assert.Equal(t, want, got)
}
