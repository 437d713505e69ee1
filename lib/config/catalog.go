package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The facts validation checks instance sizes and engine versions against.
// Each table names its source and the day it was read; a value that is not
// in a table is refused with how to add it. lint_test.go compares the
// tables with the data of the pinned cfn-lint (AWS's own lists), so a
// typo or a type AWS does not offer in the stacks' region fails the tests.

// InstanceType is what capacity planning needs of an EC2 instance type.
type InstanceType struct {
	// VCPUs and MemoryMiB are the instance's size.
	VCPUs, MemoryMiB int
	// ENIs is the most network interfaces the instance takes; the
	// instance's own uses one, and each awsvpc task one more.
	ENIs int
}

// instanceTypes are the x86_64 instance types the ECS-optimized Amazon Linux
// 2023 AMI runs on that the cluster accepts, medium size and larger.
// ENIs: EC2 DescribeInstanceTypes as generated into
// github.com/aws/amazon-vpc-resource-controller-k8s pkg/aws/vpc/limits.go
// (generated 2026-03-20, read 2026-12-02). vCPUs and memory: the EC2
// instance type specifications (general purpose 4 GiB, compute optimized 2
// GiB and memory optimized 8 GiB per vCPU; burstable t3 as listed).
// To add a type, copy its three figures from `aws ec2
// describe-instance-types --instance-types TYPE --query
// 'InstanceTypes[].[VCpuInfo.DefaultVCpus,MemoryInfo.SizeInMiB,NetworkInfo.MaximumNetworkInterfaces]'`.
var instanceTypes = map[string]InstanceType{
	"t3.large":     {VCPUs: 2, MemoryMiB: 8192, ENIs: 3},
	"t3.medium":    {VCPUs: 2, MemoryMiB: 4096, ENIs: 3},
	"t3.xlarge":    {VCPUs: 4, MemoryMiB: 16384, ENIs: 4},
	"t3.2xlarge":   {VCPUs: 8, MemoryMiB: 32768, ENIs: 4},
	"t3a.large":    {VCPUs: 2, MemoryMiB: 8192, ENIs: 3},
	"t3a.medium":   {VCPUs: 2, MemoryMiB: 4096, ENIs: 3},
	"t3a.xlarge":   {VCPUs: 4, MemoryMiB: 16384, ENIs: 4},
	"t3a.2xlarge":  {VCPUs: 8, MemoryMiB: 32768, ENIs: 4},
	"m5.large":     {VCPUs: 2, MemoryMiB: 8192, ENIs: 3},
	"m5.xlarge":    {VCPUs: 4, MemoryMiB: 16384, ENIs: 4},
	"m5.2xlarge":   {VCPUs: 8, MemoryMiB: 32768, ENIs: 4},
	"m5.4xlarge":   {VCPUs: 16, MemoryMiB: 65536, ENIs: 8},
	"m5.8xlarge":   {VCPUs: 32, MemoryMiB: 131072, ENIs: 8},
	"m5.12xlarge":  {VCPUs: 48, MemoryMiB: 196608, ENIs: 8},
	"m5.16xlarge":  {VCPUs: 64, MemoryMiB: 262144, ENIs: 15},
	"m5.24xlarge":  {VCPUs: 96, MemoryMiB: 393216, ENIs: 15},
	"m5a.large":    {VCPUs: 2, MemoryMiB: 8192, ENIs: 3},
	"m5a.xlarge":   {VCPUs: 4, MemoryMiB: 16384, ENIs: 4},
	"m5a.2xlarge":  {VCPUs: 8, MemoryMiB: 32768, ENIs: 4},
	"m5a.4xlarge":  {VCPUs: 16, MemoryMiB: 65536, ENIs: 8},
	"m5a.8xlarge":  {VCPUs: 32, MemoryMiB: 131072, ENIs: 8},
	"m5a.12xlarge": {VCPUs: 48, MemoryMiB: 196608, ENIs: 8},
	"m5a.16xlarge": {VCPUs: 64, MemoryMiB: 262144, ENIs: 15},
	"m5a.24xlarge": {VCPUs: 96, MemoryMiB: 393216, ENIs: 15},
	"m6i.large":    {VCPUs: 2, MemoryMiB: 8192, ENIs: 3},
	"m6i.xlarge":   {VCPUs: 4, MemoryMiB: 16384, ENIs: 4},
	"m6i.2xlarge":  {VCPUs: 8, MemoryMiB: 32768, ENIs: 4},
	"m6i.4xlarge":  {VCPUs: 16, MemoryMiB: 65536, ENIs: 8},
	"m6i.8xlarge":  {VCPUs: 32, MemoryMiB: 131072, ENIs: 8},
	"m6i.12xlarge": {VCPUs: 48, MemoryMiB: 196608, ENIs: 8},
	"m6i.16xlarge": {VCPUs: 64, MemoryMiB: 262144, ENIs: 15},
	"m6i.24xlarge": {VCPUs: 96, MemoryMiB: 393216, ENIs: 15},
	"m6i.32xlarge": {VCPUs: 128, MemoryMiB: 524288, ENIs: 15},
	"m6a.large":    {VCPUs: 2, MemoryMiB: 8192, ENIs: 3},
	"m6a.xlarge":   {VCPUs: 4, MemoryMiB: 16384, ENIs: 4},
	"m6a.2xlarge":  {VCPUs: 8, MemoryMiB: 32768, ENIs: 4},
	"m6a.4xlarge":  {VCPUs: 16, MemoryMiB: 65536, ENIs: 8},
	"m6a.8xlarge":  {VCPUs: 32, MemoryMiB: 131072, ENIs: 8},
	"m6a.12xlarge": {VCPUs: 48, MemoryMiB: 196608, ENIs: 8},
	"m6a.16xlarge": {VCPUs: 64, MemoryMiB: 262144, ENIs: 15},
	"m6a.24xlarge": {VCPUs: 96, MemoryMiB: 393216, ENIs: 15},
	"m6a.32xlarge": {VCPUs: 128, MemoryMiB: 524288, ENIs: 15},
	"m6a.48xlarge": {VCPUs: 192, MemoryMiB: 786432, ENIs: 15},
	"m7i.large":    {VCPUs: 2, MemoryMiB: 8192, ENIs: 3},
	"m7i.xlarge":   {VCPUs: 4, MemoryMiB: 16384, ENIs: 4},
	"m7i.2xlarge":  {VCPUs: 8, MemoryMiB: 32768, ENIs: 4},
	"m7i.4xlarge":  {VCPUs: 16, MemoryMiB: 65536, ENIs: 8},
	"m7i.8xlarge":  {VCPUs: 32, MemoryMiB: 131072, ENIs: 8},
	"m7i.12xlarge": {VCPUs: 48, MemoryMiB: 196608, ENIs: 8},
	"m7i.16xlarge": {VCPUs: 64, MemoryMiB: 262144, ENIs: 15},
	"m7i.24xlarge": {VCPUs: 96, MemoryMiB: 393216, ENIs: 15},
	"m7i.48xlarge": {VCPUs: 192, MemoryMiB: 786432, ENIs: 15},
	"m7a.medium":   {VCPUs: 1, MemoryMiB: 4096, ENIs: 2},
	"m7a.large":    {VCPUs: 2, MemoryMiB: 8192, ENIs: 3},
	"m7a.xlarge":   {VCPUs: 4, MemoryMiB: 16384, ENIs: 4},
	"m7a.2xlarge":  {VCPUs: 8, MemoryMiB: 32768, ENIs: 4},
	"m7a.4xlarge":  {VCPUs: 16, MemoryMiB: 65536, ENIs: 8},
	"m7a.8xlarge":  {VCPUs: 32, MemoryMiB: 131072, ENIs: 8},
	"m7a.12xlarge": {VCPUs: 48, MemoryMiB: 196608, ENIs: 8},
	"m7a.16xlarge": {VCPUs: 64, MemoryMiB: 262144, ENIs: 15},
	"m7a.24xlarge": {VCPUs: 96, MemoryMiB: 393216, ENIs: 15},
	"m7a.32xlarge": {VCPUs: 128, MemoryMiB: 524288, ENIs: 15},
	"m7a.48xlarge": {VCPUs: 192, MemoryMiB: 786432, ENIs: 15},
	"c5.large":     {VCPUs: 2, MemoryMiB: 4096, ENIs: 3},
	"c5.xlarge":    {VCPUs: 4, MemoryMiB: 8192, ENIs: 4},
	"c5.2xlarge":   {VCPUs: 8, MemoryMiB: 16384, ENIs: 4},
	"c5.4xlarge":   {VCPUs: 16, MemoryMiB: 32768, ENIs: 8},
	"c5.9xlarge":   {VCPUs: 36, MemoryMiB: 73728, ENIs: 8},
	"c5.12xlarge":  {VCPUs: 48, MemoryMiB: 98304, ENIs: 8},
	"c5.18xlarge":  {VCPUs: 72, MemoryMiB: 147456, ENIs: 15},
	"c5.24xlarge":  {VCPUs: 96, MemoryMiB: 196608, ENIs: 15},
	"c6i.large":    {VCPUs: 2, MemoryMiB: 4096, ENIs: 3},
	"c6i.xlarge":   {VCPUs: 4, MemoryMiB: 8192, ENIs: 4},
	"c6i.2xlarge":  {VCPUs: 8, MemoryMiB: 16384, ENIs: 4},
	"c6i.4xlarge":  {VCPUs: 16, MemoryMiB: 32768, ENIs: 8},
	"c6i.8xlarge":  {VCPUs: 32, MemoryMiB: 65536, ENIs: 8},
	"c6i.12xlarge": {VCPUs: 48, MemoryMiB: 98304, ENIs: 8},
	"c6i.16xlarge": {VCPUs: 64, MemoryMiB: 131072, ENIs: 15},
	"c6i.24xlarge": {VCPUs: 96, MemoryMiB: 196608, ENIs: 15},
	"c6i.32xlarge": {VCPUs: 128, MemoryMiB: 262144, ENIs: 15},
	"c6a.large":    {VCPUs: 2, MemoryMiB: 4096, ENIs: 3},
	"c6a.xlarge":   {VCPUs: 4, MemoryMiB: 8192, ENIs: 4},
	"c6a.2xlarge":  {VCPUs: 8, MemoryMiB: 16384, ENIs: 4},
	"c6a.4xlarge":  {VCPUs: 16, MemoryMiB: 32768, ENIs: 8},
	"c6a.8xlarge":  {VCPUs: 32, MemoryMiB: 65536, ENIs: 8},
	"c6a.12xlarge": {VCPUs: 48, MemoryMiB: 98304, ENIs: 8},
	"c6a.16xlarge": {VCPUs: 64, MemoryMiB: 131072, ENIs: 15},
	"c6a.24xlarge": {VCPUs: 96, MemoryMiB: 196608, ENIs: 15},
	"c6a.32xlarge": {VCPUs: 128, MemoryMiB: 262144, ENIs: 15},
	"c6a.48xlarge": {VCPUs: 192, MemoryMiB: 393216, ENIs: 15},
	"c7i.large":    {VCPUs: 2, MemoryMiB: 4096, ENIs: 3},
	"c7i.xlarge":   {VCPUs: 4, MemoryMiB: 8192, ENIs: 4},
	"c7i.2xlarge":  {VCPUs: 8, MemoryMiB: 16384, ENIs: 4},
	"c7i.4xlarge":  {VCPUs: 16, MemoryMiB: 32768, ENIs: 8},
	"c7i.8xlarge":  {VCPUs: 32, MemoryMiB: 65536, ENIs: 8},
	"c7i.12xlarge": {VCPUs: 48, MemoryMiB: 98304, ENIs: 8},
	"c7i.16xlarge": {VCPUs: 64, MemoryMiB: 131072, ENIs: 15},
	"c7i.24xlarge": {VCPUs: 96, MemoryMiB: 196608, ENIs: 15},
	"c7i.48xlarge": {VCPUs: 192, MemoryMiB: 393216, ENIs: 15},
	"c7a.medium":   {VCPUs: 1, MemoryMiB: 2048, ENIs: 2},
	"c7a.large":    {VCPUs: 2, MemoryMiB: 4096, ENIs: 3},
	"c7a.xlarge":   {VCPUs: 4, MemoryMiB: 8192, ENIs: 4},
	"c7a.2xlarge":  {VCPUs: 8, MemoryMiB: 16384, ENIs: 4},
	"c7a.4xlarge":  {VCPUs: 16, MemoryMiB: 32768, ENIs: 8},
	"c7a.8xlarge":  {VCPUs: 32, MemoryMiB: 65536, ENIs: 8},
	"c7a.12xlarge": {VCPUs: 48, MemoryMiB: 98304, ENIs: 8},
	"c7a.16xlarge": {VCPUs: 64, MemoryMiB: 131072, ENIs: 15},
	"c7a.24xlarge": {VCPUs: 96, MemoryMiB: 196608, ENIs: 15},
	"c7a.32xlarge": {VCPUs: 128, MemoryMiB: 262144, ENIs: 15},
	"c7a.48xlarge": {VCPUs: 192, MemoryMiB: 393216, ENIs: 15},
	"r5.large":     {VCPUs: 2, MemoryMiB: 16384, ENIs: 3},
	"r5.xlarge":    {VCPUs: 4, MemoryMiB: 32768, ENIs: 4},
	"r5.2xlarge":   {VCPUs: 8, MemoryMiB: 65536, ENIs: 4},
	"r5.4xlarge":   {VCPUs: 16, MemoryMiB: 131072, ENIs: 8},
	"r5.8xlarge":   {VCPUs: 32, MemoryMiB: 262144, ENIs: 8},
	"r5.12xlarge":  {VCPUs: 48, MemoryMiB: 393216, ENIs: 8},
	"r5.16xlarge":  {VCPUs: 64, MemoryMiB: 524288, ENIs: 15},
	"r5.24xlarge":  {VCPUs: 96, MemoryMiB: 786432, ENIs: 15},
	"r6i.large":    {VCPUs: 2, MemoryMiB: 16384, ENIs: 3},
	"r6i.xlarge":   {VCPUs: 4, MemoryMiB: 32768, ENIs: 4},
	"r6i.2xlarge":  {VCPUs: 8, MemoryMiB: 65536, ENIs: 4},
	"r6i.4xlarge":  {VCPUs: 16, MemoryMiB: 131072, ENIs: 8},
	"r6i.8xlarge":  {VCPUs: 32, MemoryMiB: 262144, ENIs: 8},
	"r6i.12xlarge": {VCPUs: 48, MemoryMiB: 393216, ENIs: 8},
	"r6i.16xlarge": {VCPUs: 64, MemoryMiB: 524288, ENIs: 15},
	"r6i.24xlarge": {VCPUs: 96, MemoryMiB: 786432, ENIs: 15},
	"r6i.32xlarge": {VCPUs: 128, MemoryMiB: 1048576, ENIs: 15},
	"r6a.large":    {VCPUs: 2, MemoryMiB: 16384, ENIs: 3},
	"r6a.xlarge":   {VCPUs: 4, MemoryMiB: 32768, ENIs: 4},
	"r6a.2xlarge":  {VCPUs: 8, MemoryMiB: 65536, ENIs: 4},
	"r6a.4xlarge":  {VCPUs: 16, MemoryMiB: 131072, ENIs: 8},
	"r6a.8xlarge":  {VCPUs: 32, MemoryMiB: 262144, ENIs: 8},
	"r6a.12xlarge": {VCPUs: 48, MemoryMiB: 393216, ENIs: 8},
	"r6a.16xlarge": {VCPUs: 64, MemoryMiB: 524288, ENIs: 15},
	"r6a.24xlarge": {VCPUs: 96, MemoryMiB: 786432, ENIs: 15},
	"r6a.32xlarge": {VCPUs: 128, MemoryMiB: 1048576, ENIs: 15},
	"r6a.48xlarge": {VCPUs: 192, MemoryMiB: 1572864, ENIs: 15},
	"r7i.large":    {VCPUs: 2, MemoryMiB: 16384, ENIs: 3},
	"r7i.xlarge":   {VCPUs: 4, MemoryMiB: 32768, ENIs: 4},
	"r7i.2xlarge":  {VCPUs: 8, MemoryMiB: 65536, ENIs: 4},
	"r7i.4xlarge":  {VCPUs: 16, MemoryMiB: 131072, ENIs: 8},
	"r7i.8xlarge":  {VCPUs: 32, MemoryMiB: 262144, ENIs: 8},
	"r7i.12xlarge": {VCPUs: 48, MemoryMiB: 393216, ENIs: 8},
	"r7i.16xlarge": {VCPUs: 64, MemoryMiB: 524288, ENIs: 15},
	"r7i.24xlarge": {VCPUs: 96, MemoryMiB: 786432, ENIs: 15},
	"r7i.48xlarge": {VCPUs: 192, MemoryMiB: 1572864, ENIs: 15},
	"r7a.medium":   {VCPUs: 1, MemoryMiB: 8192, ENIs: 2},
	"r7a.large":    {VCPUs: 2, MemoryMiB: 16384, ENIs: 3},
	"r7a.xlarge":   {VCPUs: 4, MemoryMiB: 32768, ENIs: 4},
	"r7a.2xlarge":  {VCPUs: 8, MemoryMiB: 65536, ENIs: 4},
	"r7a.4xlarge":  {VCPUs: 16, MemoryMiB: 131072, ENIs: 8},
	"r7a.8xlarge":  {VCPUs: 32, MemoryMiB: 262144, ENIs: 8},
	"r7a.12xlarge": {VCPUs: 48, MemoryMiB: 393216, ENIs: 8},
	"r7a.16xlarge": {VCPUs: 64, MemoryMiB: 524288, ENIs: 15},
	"r7a.24xlarge": {VCPUs: 96, MemoryMiB: 786432, ENIs: 15},
	"r7a.32xlarge": {VCPUs: 128, MemoryMiB: 1048576, ENIs: 15},
	"r7a.48xlarge": {VCPUs: 192, MemoryMiB: 1572864, ENIs: 15},
}

// dbInstanceClasses are the RDS instance classes (without "db.") of the
// current generations that RDS offers for PostgreSQL, with their memory in
// MiB. Classes: RDS DescribeOrderableDBInstanceOptions for postgres in
// eu-west-1 as shipped in cfn-lint 1.51.0 (schemas dated 2026-05-20, read
// 2026-12-02). Memory: the RDS hardware specifications for DB instance
// classes (burstable as listed; general purpose 4 GiB and memory optimized
// 8 GiB per vCPU). To add one, take it from `aws rds
// describe-orderable-db-instance-options --engine postgres`.
var dbInstanceClasses = map[string]int{
	"t4g.micro":    1024,
	"t4g.small":    2048,
	"t4g.medium":   4096,
	"t4g.large":    8192,
	"t4g.xlarge":   16384,
	"t4g.2xlarge":  32768,
	"t3.micro":     1024,
	"t3.small":     2048,
	"t3.medium":    4096,
	"t3.large":     8192,
	"t3.xlarge":    16384,
	"t3.2xlarge":   32768,
	"m6g.large":    8192,
	"m6g.xlarge":   16384,
	"m6g.2xlarge":  32768,
	"m6g.4xlarge":  65536,
	"m6g.8xlarge":  131072,
	"m6g.12xlarge": 196608,
	"m6g.16xlarge": 262144,
	"m6i.large":    8192,
	"m6i.xlarge":   16384,
	"m6i.2xlarge":  32768,
	"m6i.4xlarge":  65536,
	"m6i.8xlarge":  131072,
	"m6i.12xlarge": 196608,
	"m6i.16xlarge": 262144,
	"m6i.24xlarge": 393216,
	"m6i.32xlarge": 524288,
	"m7g.large":    8192,
	"m7g.xlarge":   16384,
	"m7g.2xlarge":  32768,
	"m7g.4xlarge":  65536,
	"m7g.8xlarge":  131072,
	"m7g.12xlarge": 196608,
	"m7g.16xlarge": 262144,
	"m7i.large":    8192,
	"m7i.xlarge":   16384,
	"m7i.2xlarge":  32768,
	"m7i.4xlarge":  65536,
	"m7i.8xlarge":  131072,
	"m7i.12xlarge": 196608,
	"m7i.16xlarge": 262144,
	"m7i.24xlarge": 393216,
	"m7i.48xlarge": 786432,
	"m8g.large":    8192,
	"m8g.xlarge":   16384,
	"m8g.2xlarge":  32768,
	"m8g.4xlarge":  65536,
	"m8g.8xlarge":  131072,
	"m8g.12xlarge": 196608,
	"m8g.16xlarge": 262144,
	"m8g.24xlarge": 393216,
	"m8g.48xlarge": 786432,
	"r6g.large":    16384,
	"r6g.xlarge":   32768,
	"r6g.2xlarge":  65536,
	"r6g.4xlarge":  131072,
	"r6g.8xlarge":  262144,
	"r6g.12xlarge": 393216,
	"r6g.16xlarge": 524288,
	"r6i.large":    16384,
	"r6i.xlarge":   32768,
	"r6i.2xlarge":  65536,
	"r6i.4xlarge":  131072,
	"r6i.8xlarge":  262144,
	"r6i.12xlarge": 393216,
	"r6i.16xlarge": 524288,
	"r6i.24xlarge": 786432,
	"r6i.32xlarge": 1048576,
	"r7g.large":    16384,
	"r7g.xlarge":   32768,
	"r7g.2xlarge":  65536,
	"r7g.4xlarge":  131072,
	"r7g.8xlarge":  262144,
	"r7g.12xlarge": 393216,
	"r7g.16xlarge": 524288,
	"r7i.large":    16384,
	"r7i.xlarge":   32768,
	"r7i.2xlarge":  65536,
	"r7i.4xlarge":  131072,
	"r7i.8xlarge":  262144,
	"r7i.12xlarge": 393216,
	"r7i.16xlarge": 524288,
	"r7i.24xlarge": 786432,
	"r7i.48xlarge": 1572864,
	"r8g.large":    16384,
	"r8g.xlarge":   32768,
	"r8g.2xlarge":  65536,
	"r8g.4xlarge":  131072,
	"r8g.8xlarge":  262144,
	"r8g.12xlarge": 393216,
	"r8g.16xlarge": 524288,
	"r8g.24xlarge": 786432,
	"r8g.48xlarge": 1572864,
}

// cacheNodeTypes are the current-generation ElastiCache node types
// (Graviton and burstable) as listed for eu-west-1 in cfn-lint 1.51.0's
// data (schemas dated 2026-05-20, read 2026-12-02). To add one, see the
// ElastiCache supported node types page.
var cacheNodeTypes = []string{
	"cache.t4g.micro", "cache.t4g.small", "cache.t4g.medium",
	"cache.t3.micro", "cache.t3.small", "cache.t3.medium",
	"cache.m6g.large", "cache.m6g.xlarge", "cache.m6g.2xlarge", "cache.m6g.4xlarge", "cache.m6g.8xlarge", "cache.m6g.12xlarge", "cache.m6g.16xlarge",
	"cache.m7g.large", "cache.m7g.xlarge", "cache.m7g.2xlarge", "cache.m7g.4xlarge", "cache.m7g.8xlarge", "cache.m7g.12xlarge", "cache.m7g.16xlarge",
	"cache.r6g.large", "cache.r6g.xlarge", "cache.r6g.2xlarge", "cache.r6g.4xlarge", "cache.r6g.8xlarge", "cache.r6g.12xlarge", "cache.r6g.16xlarge",
	"cache.r7g.large", "cache.r7g.xlarge", "cache.r7g.2xlarge", "cache.r7g.4xlarge", "cache.r7g.8xlarge", "cache.r7g.12xlarge", "cache.r7g.16xlarge",
}

// postgresMinors is, per PostgreSQL major in standard support on RDS, the
// range of minors RDS creates new instances on. Oldest: RDS refuses new
// instances on 14.14-14.17, 15.9-15.12, 16.5-16.8 and 17.1-17.4 since
// 2026-05-01 (AWS notice of the RDS for PostgreSQL minor deprecation,
// 2026). Newest: the newest minor RDS lists in cfn-lint 1.51.0's data and
// in aws-cdk-lib 2.276.0's PostgresEngineVersion (read 2026-12-02). 13 left
// standard support on 2026-02-28 (RDS release calendar). A major without a
// known oldest minor (0) can be pinned by major only.
var postgresMinors = map[string]struct{ Oldest, Newest int }{
	"14": {20, 22}, "15": {15, 17}, "16": {11, 13}, "17": {7, 9}, "18": {0, 3},
}

// PostgresMinors returns, per PostgreSQL major RDS creates in standard
// support, the oldest minor it still creates (0 where a pin by major only
// is allowed) and the newest it offers.
func PostgresMinors() map[string]struct{ Oldest, Newest int } { return maps.Clone(postgresMinors) }

// InstanceTypes, DBInstanceClasses and CacheNodeTypes return the names in
// the tables, sorted, for tests that compare them with AWS's data.
func InstanceTypes() []string     { return slices.Sorted(maps.Keys(instanceTypes)) }
func DBInstanceClasses() []string { return slices.Sorted(maps.Keys(dbInstanceClasses)) }
func CacheNodeTypes() []string    { return slices.Sorted(slices.Values(cacheNodeTypes)) }

// InstanceTypeOf returns the facts of an instance type in the table.
func InstanceTypeOf(name string) (InstanceType, bool) {
	t, ok := instanceTypes[name]
	return t, ok
}

// familiesOf lists the families (t3, m6i, ...) of names, for messages.
func familiesOf(names []string) string {
	var fams []string
	for _, n := range names {
		f, _, _ := strings.Cut(strings.TrimPrefix(n, "cache."), ".")
		if !slices.Contains(fams, f) {
			fams = append(fams, f)
		}
	}
	return strings.Join(fams, ", ")
}

// postgresVersionAllowed describes the versions postgresMinors allows.
func postgresVersionAllowed() string {
	var parts []string
	for _, major := range slices.Sorted(maps.Keys(postgresMinors)) {
		m := postgresMinors[major]
		if m.Oldest == 0 {
			parts = append(parts, major)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s or %s.%d-%s.%d", major, major, m.Oldest, major, m.Newest))
	}
	return strings.Join(parts, ", ")
}

func atoiOK(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil
}
