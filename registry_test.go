package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegistryStack(t *testing.T) {
	runChecks(t, "Registry", []templateCheck{
		{"repository with scan on push, immutable tags and AES encryption", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResource(jsii.String("AWS::ECR::Repository"), map[string]any{
				"Properties": map[string]any{
					"ImageScanningConfiguration": map[string]any{"ScanOnPush": true},
					"ImageTagMutability":         "IMMUTABLE",
					// Absent means AES256, ECR's default encryption.
					"EncryptionConfiguration": assertions.Match_Absent(),
					"EmptyOnDelete":           !cfg.RetainData,
				},
				"DeletionPolicy": policyFor(cfg, "RetainExceptOnCreate"),
			})
		}},
		{"lifecycle expires untagged images and old scratch images, one rule per prefix, never release tags", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			repos := tpl.FindResources(jsii.String("AWS::ECR::Repository"), nil)
			for _, r := range *repos {
				text, _ := at(t, *r, "Properties", "LifecyclePolicy", "LifecyclePolicyText").(string)
				var policy struct {
					Rules []struct {
						Selection map[string]any `json:"selection"`
					} `json:"rules"`
				}
				require.NoError(t, json.Unmarshal([]byte(text), &policy))
				got := []string{}
				for _, rule := range policy.Rules {
					got = append(got, fmt.Sprintf("%v/%v/%v/%v", rule.Selection["tagStatus"], rule.Selection["tagPrefixList"], rule.Selection["countType"], rule.Selection["countNumber"]))
				}
				want := []string{
					fmt.Sprintf("untagged/<nil>/sinceImagePushed/%d", cfg.Registry.UntaggedExpiryDays),
					fmt.Sprintf("tagged/[pr-]/imageCountMoreThan/%d", cfg.Registry.KeepImages),
					fmt.Sprintf("tagged/[ci-]/imageCountMoreThan/%d", cfg.Registry.KeepImages),
				}
				assert.Equal(t, want, got, "lifecycle rules")
			}
		}},
		{"outputs repository_url", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasOutput(jsii.String("RepositoryUrl"), map[string]any{"Description": matching("^repository_url: ")})
		}},
	})
}
