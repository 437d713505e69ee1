package iampolicy

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func doc(t *testing.T, raw string) any {
	t.Helper()
	var d any
	require.NoError(t, json.Unmarshal([]byte(raw), &d))
	return d
}

// publish is CloudWatch publishing an alarm of account 111111111111.
var publish = Request{
	Service: "cloudwatch.amazonaws.com", Action: "sns:Publish",
	Context: map[string]string{"aws:SourceAccount": "111111111111", "aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:x"},
}

func TestEvaluate(t *testing.T) {
	allowCW := `{"Sid": "CW", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish", "Resource": "*"`
	for _, tt := range []struct {
		name, policy string
		req          Request
		allowed      bool
		why          string
	}{
		{"an Allow for the service", `{"Statement": [` + allowCW + `}]}`, publish, true, "allowed by statement CW"},
		{"nothing allows it", `{"Statement": []}`, publish, false, "no statement allows it"},
		{"another service", `{"Statement": [` + allowCW + `}]}`, Request{Service: "events.amazonaws.com", Action: "sns:Publish"}, false, "no statement allows it"},
		{"another action", `{"Statement": [` + allowCW + `}]}`, Request{Service: "cloudwatch.amazonaws.com", Action: "sns:Subscribe"}, false, "no statement allows it"},
		{"an action wildcard, without case", `{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "SNS:Pub*", "Resource": "*"}]}`, publish, true, "allowed by statement #0"},
		{"a Deny wins over an Allow", `{"Statement": [` + allowCW + `}, {"Sid": "TLS", "Effect": "Deny", "Principal": "*", "Action": "sns:*", "Resource": "*"}]}`, publish, false, "denied by statement TLS"},
		{"a condition that holds", `{"Statement": [` + allowCW + `, "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}, "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:*"}}}]}`, publish, true, "allowed by statement CW"},
		{"a condition that fails", `{"Statement": [` + allowCW + `, "Condition": {"StringEquals": {"aws:SourceAccount": "222222222222"}}}]}`, publish, false, "no statement allows it"},
		{"StringLike compares with case", `{"Statement": [` + allowCW + `, "Condition": {"StringLike": {"aws:SourceArn": "ARN:aws:cloudwatch:*"}}}]}`, publish, false, "no statement allows it"},
		{"a key the request lacks", `{"Statement": [` + allowCW + `, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}]}`, publish, false, "no statement allows it"},
		{"an unknown operator never allows", `{"Statement": [` + allowCW + `, "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}}]}`, publish, false, "no statement allows it"},
		{"an unknown operator always denies", `{"Statement": [` + allowCW + `}, {"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}}]}`, publish, false, "denied by statement D"},
		{"NotAction never allows", `{"Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": "s3:*", "Resource": "*"}]}`, publish, false, "no statement allows it"},
		{"NotPrincipal always denies", `{"Statement": [` + allowCW + `}, {"Sid": "D", "Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "*", "Resource": "*"}]}`, publish, false, "denied by statement D"},
		{"a statement that is not an object", `{"Statement": [` + allowCW + `}, "Allow everything"]}`, publish, false, "statement #1 is not an object, so it counts as a Deny"},
		{"an effect that is not Allow", `{"Statement": [{"Sid": "X", "Effect": "allow", "Principal": "*", "Action": "*", "Resource": "*"}]}`, publish, false, "denied by statement X"},
		{"a policy that is not an object", `"Allow"`, publish, false, "the policy is not an object (string)"},
		{"an identity policy names no principal", `{"Statement": [{"Effect": "Allow", "Action": ["ecr:BatchGetImage"], "Resource": "*"}]}`, Request{Action: "ecr:BatchGetImage"}, true, "allowed by statement #0"},
		{"a resource the statement does not cover", `{"Statement": [{"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "arn:aws:ecr:eu-west-1:1:repository/a"}]}`,
			Request{Action: "ecr:BatchGetImage", Resource: func(v any) bool { return v == "arn:aws:ecr:eu-west-1:1:repository/b" }}, false, "no statement allows it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			allowed, why := Evaluate(doc(t, tt.policy), tt.req)
			assert.Equal(t, tt.allowed, allowed)
			assert.Equal(t, tt.why, why)
		})
	}
}

func TestGlob(t *testing.T) {
	assert.True(t, Glob("ecr:*", "ECR:BatchGetImage"))
	assert.True(t, Glob("kms:GenerateDataKey*", "kms:GenerateDataKey"))
	assert.True(t, Glob("s3:Get?bject", "s3:GetObject"))
	assert.False(t, Glob("s3:Get?bject", "s3:GetObjectAcl"))
	assert.False(t, Glob("ecr:Batch.*", "ecr:BatchGetImage"), "regexp characters are literal")
}

func TestStrings(t *testing.T) {
	assert.Equal(t, []string{"a"}, Strings("a"))
	assert.Equal(t, []string{"a", "b"}, Strings([]any{"a", map[string]any{"Ref": "X"}, "b"}))
	assert.Nil(t, Strings(map[string]any{"Ref": "X"}))
}

func TestEvaluateAllLetsADenyAnywhereWin(t *testing.T) {
	allow := doc(t, `{"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"}]}`)
	deny := doc(t, `{"Statement": [{"Sid": "D", "Effect": "Deny", "Action": "ecr:*", "Resource": "*"}]}`)
	other := doc(t, `{"Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}`)
	req := Request{Action: "ecr:BatchGetImage"}
	ok, why := EvaluateAll([]any{other, allow}, req)
	assert.True(t, ok)
	assert.Equal(t, "allowed by statement A", why)
	ok, why = EvaluateAll([]any{allow, deny}, req)
	assert.False(t, ok)
	assert.Equal(t, "denied by statement D", why)
	ok, why = EvaluateAll([]any{other}, req)
	assert.False(t, ok)
	assert.Equal(t, "no policy allows it", why)
	ok, _ = EvaluateAll(nil, req)
	assert.False(t, ok, "no policy at all")
}
