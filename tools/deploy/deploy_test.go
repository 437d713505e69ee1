package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/platform/lib/config"
)

// fakeAWS answers the calls the deploy makes as AWS does, in the shapes of
// AWS's responses (the query protocol's XML for STS, IAM and CloudFormation,
// JSON 1.1 for ECR), from a small state of one account.
type fakeAWS struct {
	mu       sync.Mutex
	account  string
	ecsRole  bool
	stacks   map[string]fakeStack
	images   map[string]bool // "repository:tag"
	calls    []string
	failIAM  bool
	response func(w http.ResponseWriter, r *http.Request)
}

type fakeStack struct {
	status    string
	protected bool
	outputs   map[string]string
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		f.ecrCall(w, target, body)
		return
	}
	form, _ := url.ParseQuery(string(body))
	action := form.Get("Action")
	f.calls = append(f.calls, action+" "+form.Get("RoleName")+form.Get("StackName")+form.Get("AWSServiceName"))
	switch action {
	case "DescribeAvailabilityZones":
		var items strings.Builder
		for _, z := range []struct{ name, state string }{{"eu-west-1a", "available"}, {"eu-west-1b", "available"}, {"eu-west-1c", "available"}, {"eu-west-1d", "unavailable"}} {
			fmt.Fprintf(&items, "<item><zoneName>%s</zoneName><zoneState>%s</zoneState><regionName>eu-west-1</regionName><zoneType>availability-zone</zoneType></item>", z.name, z.state)
		}
		ec2Result(w, action, "<availabilityZoneInfo>"+items.String()+"</availabilityZoneInfo>")
	case "DescribeManagedPrefixLists":
		var items string
		if form.Get("Filter.1.Name") == "prefix-list-name" && form.Get("Filter.1.Value.1") == "com.amazonaws.eu-west-1.s3" {
			items = "<item><prefixListId>pl-6da54004</prefixListId><prefixListName>com.amazonaws.eu-west-1.s3</prefixListName><addressFamily>IPv4</addressFamily><ownerId>AWS</ownerId></item>"
		}
		ec2Result(w, action, "<prefixListSet>"+items+"</prefixListSet>")
	case "GetCallerIdentity":
		queryResult(w, "https://sts.amazonaws.com/doc/2011-06-15/", action,
			fmt.Sprintf("<Arn>arn:aws:iam::%s:user/deployer</Arn><UserId>AIDAEXAMPLE</UserId><Account>%s</Account>", f.account, f.account))
	case "GetRole":
		if !f.ecsRole {
			queryError(w, http.StatusNotFound, "https://iam.amazonaws.com/doc/2010-05-08/", "NoSuchEntity", "The role with name AWSServiceRoleForECS cannot be found.")
			return
		}
		queryResult(w, "https://iam.amazonaws.com/doc/2010-05-08/", action, role())
	case "CreateServiceLinkedRole":
		if f.failIAM {
			queryError(w, http.StatusForbidden, "https://iam.amazonaws.com/doc/2010-05-08/", "AccessDenied", "User is not authorized to perform: iam:CreateServiceLinkedRole")
			return
		}
		if f.ecsRole {
			queryError(w, http.StatusBadRequest, "https://iam.amazonaws.com/doc/2010-05-08/", "InvalidInput", "Service role name AWSServiceRoleForECS has been taken in this account, please try a different suffix.")
			return
		}
		f.ecsRole = true
		queryResult(w, "https://iam.amazonaws.com/doc/2010-05-08/", action, role())
	case "DescribeStacks":
		name := form.Get("StackName")
		s, ok := f.stacks[name]
		if !ok {
			queryError(w, http.StatusBadRequest, cfnNS, "ValidationError", "Stack with id "+name+" does not exist")
			return
		}
		describeStacksResult(w, f.account, name, s)
	case "UpdateTerminationProtection":
		name := form.Get("StackName")
		s := f.stacks[name]
		s.protected = form.Get("EnableTerminationProtection") == "true"
		f.stacks[name] = s
		queryResult(w, cfnNS, action, "<StackId>arn:aws:cloudformation:eu-west-1:"+f.account+":stack/"+name+"/1</StackId>")
	default:
		http.Error(w, "unexpected call "+action, http.StatusNotImplemented)
	}
}

func (f *fakeAWS) ecrCall(w http.ResponseWriter, target string, body []byte) {
	var in struct {
		RepositoryName string `json:"repositoryName"`
		ImageIds       []struct {
			ImageTag string `json:"imageTag"`
		} `json:"imageIds"`
	}
	_ = json.Unmarshal(body, &in)
	f.calls = append(f.calls, target+" "+in.RepositoryName)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if target != "AmazonEC2ContainerRegistry_V20150921.DescribeImages" || len(in.ImageIds) != 1 {
		w.WriteHeader(http.StatusNotImplemented)
		return
	}
	tag := in.ImageIds[0].ImageTag
	if !f.images[in.RepositoryName+":"+tag] {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"ImageNotFoundException","message":"The image with imageId {imageDigest:'null', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'"}`,
			tag, in.RepositoryName, f.account)
		return
	}
	fmt.Fprintf(w, `{"imageDetails":[{"registryId":"%s","repositoryName":"%s","imageDigest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","imageTags":["%s"]}]}`,
		f.account, in.RepositoryName, tag)
}

// describeStacksResult answers DescribeStacks with one stack.
func describeStacksResult(w http.ResponseWriter, account, name string, s fakeStack) {
	var outputs strings.Builder
	for k, v := range s.outputs {
		fmt.Fprintf(&outputs, "<member><OutputKey>%s</OutputKey><OutputValue>%s</OutputValue></member>", k, v)
	}
	queryResult(w, cfnNS, "DescribeStacks", fmt.Sprintf(
		"<Stacks><member><StackName>%s</StackName><StackId>arn:aws:cloudformation:eu-west-1:%s:stack/%s/1</StackId><CreationTime>2026-12-01T10:00:00Z</CreationTime>"+
			"<StackStatus>%s</StackStatus><EnableTerminationProtection>%t</EnableTerminationProtection><Outputs>%s</Outputs></member></Stacks>",
		name, account, name, s.status, s.protected, outputs.String()))
}

func role() string {
	return "<Role><Path>/aws-service-role/ecs.amazonaws.com/</Path><RoleName>AWSServiceRoleForECS</RoleName><RoleId>AROAEXAMPLE</RoleId>" +
		"<Arn>arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS</Arn><CreateDate>2026-12-02T00:00:00Z</CreateDate>" +
		"<AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument></Role>"
}

func queryResult(w http.ResponseWriter, ns, action, result string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[1]sResponse xmlns="%[2]s"><%[1]sResult>%[3]s</%[1]sResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></%[1]sResponse>`, action, ns, result)
}

func ec2Result(w http.ResponseWriter, action, body string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[1]sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>%[2]s</%[1]sResponse>`, action, body)
}

func queryError(w http.ResponseWriter, status int, ns, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`, ns, code, message)
}

// serve serves f and returns the deploy's view of it through the SDK.
func (f *fakeAWS) serve(t *testing.T) Account { return newAWSAccount(f.config(t)) }

func (f *fakeAWS) config(t *testing.T) aws.Config {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	}
}

// prod is prod bound to account 123456789012, with tag as its image.
func prod(tag string) config.Config {
	var c config.Config
	c.AppName, c.Environment, c.Account, c.Region = "webapp", "prod", "123456789012", "eu-west-1"
	c.Service.ImageTag = tag
	return c
}

// complete is every stack of prod as a finished deploy leaves it.
func complete() map[string]fakeStack {
	out := map[string]fakeStack{}
	for _, id := range config.StackIDs {
		out[prod("").StackName(id)] = fakeStack{status: "UPDATE_COMPLETE", protected: true}
	}
	out[toolkitStack] = fakeStack{status: "UPDATE_COMPLETE"}
	out["webapp-prod-registry"] = fakeStack{status: "CREATE_COMPLETE", protected: true,
		outputs: map[string]string{"RepositoryUrl": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp-prod-registry-repository22e53bbd-abc"}}
	return out
}

func TestFirstDeployIntoANewAccount(t *testing.T) {
	f := &fakeAWS{account: "123456789012", stacks: map[string]fakeStack{}}
	p, err := MakePlan(context.Background(), prod(""), f.serve(t))
	require.NoError(t, err)
	assert.Equal(t, config.StackIDs, p.Creating, "every stack is created, first without protection")
	assert.True(t, p.Bootstrap, "the account and region were never bootstrapped")
	assert.True(t, f.ecsRole, "the ECS service-linked role was created")
	assert.Contains(t, f.calls, "CreateServiceLinkedRole ecs.amazonaws.com")
	assert.Contains(t, p.Notes, "created the ECS service-linked role AWSServiceRoleForECS (this account had never used ECS)")
	assert.Equal(t, [][]string{{"-c", "firstCreate=" + strings.Join(config.StackIDs, ",")}, nil}, p.Passes(), "two passes: create unprotected, then protect")
}

func TestUpdateOfADeployedEnvironment(t *testing.T) {
	f := &fakeAWS{account: "123456789012", ecsRole: true, stacks: complete(),
		images: map[string]bool{"webapp-prod-registry-repository22e53bbd-abc:v1.2.0": true}}
	p, err := MakePlan(context.Background(), prod("v1.2.0"), f.serve(t))
	require.NoError(t, err)
	assert.Empty(t, p.Creating)
	assert.False(t, p.Bootstrap)
	assert.Equal(t, [][]string{nil}, p.Passes(), "one pass, protections as committed")
	assert.NotContains(t, strings.Join(f.calls, "\n"), "CreateServiceLinkedRole")
}

func TestAFailedFirstCreateIsRetried(t *testing.T) {
	stacks := complete()
	stacks["webapp-prod-service"] = fakeStack{status: "ROLLBACK_COMPLETE", protected: true}
	f := &fakeAWS{account: "123456789012", ecsRole: true, stacks: stacks, images: map[string]bool{"webapp-prod-registry-repository22e53bbd-abc:v1.2.0": true}}
	p, err := MakePlan(context.Background(), prod("v1.2.0"), f.serve(t))
	require.NoError(t, err)
	assert.Equal(t, []string{"Service"}, p.Creating)
	assert.False(t, f.stacks["webapp-prod-service"].protected, "termination protection off, so that the CLI can delete the empty stack")
	assert.Len(t, p.Passes(), 2)
}

func TestDeploysThatAWSWouldRefuse(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(f *fakeAWS)
		tag   string
		want  []string
	}{
		{"credentials for another account", func(f *fakeAWS) { f.account = "999999999999" }, "", []string{
			"the credentials are for account 999999999999, but prod is bound to account 123456789012"}},
		{"no permission to create the ECS service-linked role", func(f *fakeAWS) { f.ecsRole, f.failIAM = false, true }, "", []string{
			"the ECS service-linked role, which the cluster's capacity provider needs, could not be ensured", "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com"}},
		{"a stack mid-update", func(f *fakeAWS) { f.stacks["webapp-prod-database"] = fakeStack{status: "UPDATE_IN_PROGRESS"} }, "", []string{
			"webapp-prod-database is UPDATE_IN_PROGRESS: another operation is running on it"}},
		{"a first create whose rollback failed", func(f *fakeAWS) { f.stacks["webapp-prod-database"] = fakeStack{status: "ROLLBACK_FAILED"} }, "", []string{
			"webapp-prod-database failed its first create and its rollback failed (ROLLBACK_FAILED)"}},
		{"an update whose rollback failed", func(f *fakeAWS) { f.stacks["webapp-prod-cache"] = fakeStack{status: "UPDATE_ROLLBACK_FAILED"} }, "", []string{
			"aws cloudformation continue-update-rollback --stack-name webapp-prod-cache"}},
		{"a release that was never pushed", func(*fakeAWS) {}, "v9.9.9", []string{
			"Service.ImageTag is v9.9.9, but 123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp-prod-registry-repository22e53bbd-abc holds no image tagged v9.9.9",
			"docker push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp-prod-registry-repository22e53bbd-abc:v9.9.9"}},
		{"a release before the repository exists", func(f *fakeAWS) { delete(f.stacks, "webapp-prod-registry") }, "v1.0.0", []string{
			"the Registry stack (webapp-prod-registry) does not exist yet", "npx cdk deploy Registry --exclusively -c env=prod"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAWS{account: "123456789012", ecsRole: true, stacks: complete()}
			tt.setup(f)
			_, err := MakePlan(context.Background(), prod(tt.tag), f.serve(t))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestLookupsRecordWhatValidationNeeds: make lookups writes the zones the
// region has available and S3's prefix list under the keys the CDK and
// validation read.
func TestLookupsRecordWhatValidationNeeds(t *testing.T) {
	f := &fakeAWS{account: "123456789012"}
	cfg := prod("")
	cfg.Network.InterfaceEndpoints = true
	lookups := map[string]any{"availability-zones:account=111111111111:region=eu-west-1": []any{"eu-west-1a"}}
	keys, err := lookup(context.Background(), cfg, ec2Lookups{ec2.NewFromConfig(f.config(t))}, lookups)
	require.NoError(t, err)
	assert.Equal(t, []string{config.ZonesKey("123456789012", "eu-west-1"), config.S3PrefixListKey("123456789012", "eu-west-1")}, keys)
	assert.Equal(t, []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"}, lookups[config.ZonesKey("123456789012", "eu-west-1")], "only available zones")
	id, err := config.S3PrefixList(lookups, "123456789012", "eu-west-1")
	require.NoError(t, err)
	assert.Equal(t, "pl-6da54004", id)
	assert.Contains(t, lookups, "availability-zones:account=111111111111:region=eu-west-1", "other lookups stay")

	cfg.Region = "eu-central-1"
	_, err = lookup(context.Background(), cfg, ec2Lookups{ec2.NewFromConfig(f.config(t))}, lookups)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "found 0 prefix lists named com.amazonaws.eu-central-1.s3, want exactly one")
}
