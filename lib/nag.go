package lib

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppress acknowledges one cdk-nag rule on one construct (not its children)
// with the reason it does not apply there. For granular rules such as
// AwsSolutions-IAM5, findings limits the suppression to those findings
// (e.g. "Resource::*").
func suppress(c constructs.IConstruct, rule, reason string, findings ...string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(findings) > 0 {
		appliesTo := make([]any, len(findings))
		for i, f := range findings {
			appliesTo[i] = f
		}
		s.AppliesTo = &appliesTo
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(false))
}

// defaultPolicy is the inline policy the CDK's grants add to a role.
func defaultPolicy(role constructs.IConstruct) constructs.IConstruct {
	return role.Node().FindChild(jsii.String("DefaultPolicy")).Node().DefaultChild()
}
