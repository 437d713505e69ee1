package main

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// awsAccount is Account through the AWS SDK.
type awsAccount struct {
	sts *sts.Client
	iam *iam.Client
	cfn *cloudformation.Client
	ecr *ecr.Client
}

func newAWSAccount(cfg aws.Config) awsAccount {
	return awsAccount{sts: sts.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg), cfn: cloudformation.NewFromConfig(cfg), ecr: ecr.NewFromConfig(cfg)}
}

func (a awsAccount) CallerAccount(ctx context.Context) (string, error) {
	out, err := a.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Account), nil
}

// serviceLinkedRoles names the service-linked role of each service.
var serviceLinkedRoles = map[string]string{ecsService: "AWSServiceRoleForECS"}

func (a awsAccount) EnsureServiceLinkedRole(ctx context.Context, service string) (bool, error) {
	_, err := a.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(serviceLinkedRoles[service])})
	var missing *iamtypes.NoSuchEntityException
	if !errors.As(err, &missing) {
		return false, err
	}
	_, err = a.iam.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String(service)})
	// Created in the meantime: "Service role name ... has been taken in
	// this account".
	var taken *iamtypes.InvalidInputException
	if errors.As(err, &taken) && strings.Contains(taken.ErrorMessage(), "has been taken") {
		return false, nil
	}
	return err == nil, err
}

func (a awsAccount) Stack(ctx context.Context, name string) (StackState, bool, error) {
	out, err := a.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ValidationError" && strings.Contains(api.ErrorMessage(), "does not exist") {
		return StackState{}, false, nil
	}
	if err != nil {
		return StackState{}, false, err
	}
	if len(out.Stacks) == 0 {
		return StackState{}, false, nil
	}
	s := out.Stacks[0]
	state := StackState{Status: string(s.StackStatus), TerminationProtection: aws.ToBool(s.EnableTerminationProtection), Outputs: map[string]string{}}
	for _, o := range s.Outputs {
		state.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return state, true, nil
}

func (a awsAccount) DisableTerminationProtection(ctx context.Context, name string) error {
	_, err := a.cfn.UpdateTerminationProtection(ctx, &cloudformation.UpdateTerminationProtectionInput{
		StackName: aws.String(name), EnableTerminationProtection: aws.Bool(false),
	})
	return err
}

func (a awsAccount) ImageExists(ctx context.Context, repository, tag string) (bool, error) {
	_, err := a.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{
		RepositoryName: aws.String(repository), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}},
	})
	var notFound *ecrtypes.ImageNotFoundException
	if errors.As(err, &notFound) {
		return false, nil
	}
	return err == nil, err
}
