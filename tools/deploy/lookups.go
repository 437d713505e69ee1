package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/example/platform/lib/config"
)

// Lookups is what `make lookups` reads of an account and region: what the
// CDK would look up and cache in cdk.context.json, which validation needs
// before the CDK runs (so the CDK cannot look it up itself).
type Lookups interface {
	// Zones are the available availability zones, as the CDK's
	// availability-zones provider lists them.
	Zones(ctx context.Context) ([]string, error)
	// PrefixList is the ID of the AWS-managed prefix list with name.
	PrefixList(ctx context.Context, name string) (string, error)
}

// lookup records cfg's account and region lookups in the lookups map of
// cdk.context.json: its zones, and with interface endpoints S3's prefix
// list of the region. It returns the keys it set.
func lookup(ctx context.Context, cfg config.Config, l Lookups, lookups map[string]any) ([]string, error) {
	zones, err := l.Zones(ctx)
	if err != nil {
		return nil, fmt.Errorf("availability zones of %s: %w", cfg.Region, err)
	}
	if len(zones) == 0 {
		return nil, fmt.Errorf("%s lists no available zone for account %s", cfg.Region, cfg.Account)
	}
	list := make([]any, len(zones))
	for i, z := range zones {
		list[i] = z
	}
	key := config.ZonesKey(cfg.Account, cfg.Region)
	lookups[key] = list
	keys := []string{key}
	if cfg.Network.InterfaceEndpoints {
		id, err := l.PrefixList(ctx, config.S3PrefixListName(cfg.Region))
		if err != nil {
			return nil, fmt.Errorf("prefix list %s: %w", config.S3PrefixListName(cfg.Region), err)
		}
		key := config.S3PrefixListKey(cfg.Account, cfg.Region)
		lookups[key] = []any{map[string]any{"PrefixListId": id, "Identifier": id}}
		keys = append(keys, key)
	}
	return keys, nil
}

// writeLookups rewrites cdk.context.json with lookups, keys sorted.
func writeLookups(path string, lookups map[string]any) error {
	raw, err := json.MarshalIndent(lookups, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

// ec2Lookups is Lookups through the AWS SDK.
type ec2Lookups struct{ ec2 *ec2.Client }

func (l ec2Lookups) Zones(ctx context.Context) ([]string, error) {
	out, err := l.ec2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil {
		return nil, err
	}
	var zones []string
	for _, z := range out.AvailabilityZones {
		if z.State == ec2types.AvailabilityZoneStateAvailable {
			zones = append(zones, aws.ToString(z.ZoneName))
		}
	}
	slices.Sort(zones)
	return zones, nil
}

func (l ec2Lookups) PrefixList(ctx context.Context, name string) (string, error) {
	out, err := l.ec2.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{
		Filters: []ec2types.Filter{{Name: aws.String("prefix-list-name"), Values: []string{name}}},
	})
	if err != nil {
		return "", err
	}
	if len(out.PrefixLists) != 1 {
		return "", fmt.Errorf("found %d prefix lists named %s, want exactly one", len(out.PrefixLists), name)
	}
	return aws.ToString(out.PrefixLists[0].PrefixListId), nil
}
