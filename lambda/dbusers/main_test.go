package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeleteLeavesTheUser: a stack deleted while its data is retained keeps
// the user; the delete answers with the resource's ID and touches nothing
// (no AWS configuration is even loaded).
func TestDeleteLeavesTheUser(t *testing.T) {
	var e event
	e.RequestType = "Delete"
	e.PhysicalResourceId = "database-user:app"
	e.ResourceProperties.MasterSecretArn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:unreachable"
	got, err := handle(context.Background(), e)
	require.NoError(t, err)
	assert.Equal(t, "database-user:app", got.PhysicalResourceId)
}
