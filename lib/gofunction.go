package lib

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/internal/gobuild"
)

// goFunctionCode is the code asset of a Go command of this module built
// for provided.al2023 on arm64 (internal/gobuild). It is built with the
// local Go toolchain when the app synthesizes, not in Docker as the CDK's
// alpha Go bundling does by default, so synthesis stays offline and needs
// no Docker. The asset's hash is the hash of the sources the binary is
// built from, not of the binary: the goldens and the deployed code change
// when the code does, not when the toolchain's output does. A build
// failure panics: synthesis cannot go on without the code, and the Go
// compiler's message says why.
func goFunctionCode(f gobuild.Function) awslambda.Code {
	dir, hash, err := f.Build()
	if err != nil {
		panic(err)
	}
	return awslambda.Code_FromAsset(jsii.String(dir), &awss3assets.AssetOptions{
		AssetHash:     jsii.String(hash),
		AssetHashType: awscdk.AssetHashType_CUSTOM,
	})
}
