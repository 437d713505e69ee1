package config

import "slices"

// Presets returns a fresh copy of the shape of every known environment,
// keyed by name: sizes, availability and protection. What a deployment
// adds (account, certificate, alarm addresses, image tag) is committed in
// its file under Dir. Prod is dev with its differences, so what sets the
// environments apart is the list below.
func Presets() map[string]Config {
	dev := devPreset()
	presets := map[string]Config{"dev": dev, "prod": prodPreset(dev)}
	for name, p := range presets {
		p.Environment = name
		presets[name] = p
	}
	return presets
}

// devPreset is cheap and destroyable: one NAT gateway, small instances, a
// single-AZ database, one cache node, nothing retained or protected. It
// spells out every field, the base prod starts from.
func devPreset() Config {
	return Config{
		AppName:           "webapp",
		Region:            "eu-west-1",
		AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"},
		Network: Network{
			VpcCidr:              "10.10.0.0/16",
			PublicSubnetMask:     24,
			PrivateSubnetMask:    20,
			NatGateways:          1,
			FlowLogRetentionDays: 14,
			InterfaceEndpoints:   false,
			InternetEgress:       []Egress{{CIDR: "0.0.0.0/0", Port: 443, Purpose: "AWS APIs and registries"}},
		},
		Service: Service{
			ContainerPort:           8080,
			MinTasks:                1,
			MaxTasks:                2,
			Cpu:                     256,
			MemoryMiB:               512,
			User:                    "65534:65534",
			ScratchMiB:              64,
			HealthCheckTool:         "wget",
			HealthCheckGraceSeconds: 60,
			CPUTargetPercent:        60,
			RequestsPerTarget:       1000,
			LogRetentionDays:        14,
			EnableExec:              true,
			Rollout:                 Rollout{Strategy: "ROLLING", StepPercent: 10, StepBakeMinutes: 5, BakeMinutes: 10},
		},
		Cluster:  Cluster{MinInstances: 1, MaxInstances: 3, InstanceType: "t3.medium", RootVolumeGiB: 30, ContainerInsights: "enabled"},
		Registry: Registry{ImmutableTags: true, ScratchTagPrefixes: []string{"pr-", "ci-"}, KeepImages: 10, UntaggedExpiryDays: 1},
		LoadBalancer: LoadBalancer{
			HealthCheckPath:            "/healthz",
			HealthyHTTPCodes:           "200-299",
			HealthCheckIntervalSeconds: 15,
			HealthyThreshold:           2,
			UnhealthyThreshold:         3,
			DeregistrationDelaySeconds: 30,
			IdleTimeoutSeconds:         60,
			AccessLogRetentionDays:     30,
			Firewall:                   Firewall{RateLimitPer5Minutes: 2000, LogRetentionDays: 30},
		},
		Monitoring: Monitoring{
			FunctionLogRetentionDays: 14,
			Thresholds: Thresholds{
				ALB5xxPercent: 5, Target5xxCount: 20, UnhealthyTargets: 1, P95ResponseSeconds: 2, P99ResponseSeconds: 5,
				ServiceCPUPercent: 90, ServiceMemoryPercent: 90, ClusterCPUReservationPercent: 90, ClusterMemoryReservationPercent: 90,
				DatabaseCPUPercent: 90, DatabaseFreeableMemoryMiB: 64, DatabaseFreeStorageGiB: 2, DatabaseConnections: 70, DatabaseLatencyMillis: 50,
				RedisEngineCPUPercent: 90, RedisMemoryPercent: 90, RedisEvictions: 1000, RedisConnections: 500, RedisReplicationLagSeconds: 5,
				FirewallBlockedRequests: 500,
			},
		},
		Database: Database{
			EngineVersion:             "16",
			InstanceClass:             "t4g.micro",
			AllocatedStorageGiB:       20,
			MaxAllocatedStorageGiB:    50,
			BackupRetentionDays:       1,
			BackupWindow:              "02:00-03:00",
			MaintenanceWindow:         "sun:03:30-sun:04:30",
			MonitoringIntervalSeconds: 60,
			SlowStatementMillis:       500,
			LogRetentionDays:          14,
			RotationDays:              30,
			DatabaseName:              "app",
			Username:                  "app_admin",
			AppUsername:               "app",
		},
		Cache: Cache{
			EngineVersion:         "7.1",
			NodeType:              "cache.t4g.micro",
			SnapshotRetentionDays: 1,
			SnapshotWindow:        "01:00-02:00",
			MaintenanceWindow:     "sun:05:00-sun:06:00",
			LogRetentionDays:      14,
			AppUsername:           "app",
		},
	}
}

// prodPreset is highly available and protected: three zones with a NAT
// gateway each, VPC endpoints, larger capacity, Multi-AZ database, a cache
// replica, HTTPS, longer retention, deletion and termination protection,
// and data kept when its stack goes.
func prodPreset(dev Config) Config {
	p := dev
	p.AvailabilityZones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}
	p.TerminationProtection = true
	p.RetainData = true

	p.Network.VpcCidr = "10.20.0.0/16"
	p.Network.NatGateways = 3
	p.Network.FlowLogRetentionDays = 365
	p.Network.InterfaceEndpoints = true
	// Closed egress: AWS only through the endpoints. The NAT gateways stay
	// (one per zone) so that an application that needs the internet is a
	// reviewed change of InternetEgress, not a change of the VPC's routes.
	p.Network.InternetEgress = nil

	p.Service.MinTasks, p.Service.MaxTasks = 3, 12
	p.Service.Cpu, p.Service.MemoryMiB = 512, 1024
	p.Service.LogRetentionDays = 365
	p.Service.EnableExec = false

	p.Cluster = Cluster{MinInstances: 3, MaxInstances: 13, InstanceType: "m6i.large", RootVolumeGiB: 30, ManagedTerminationProtection: true, DetailedMonitoring: true, ContainerInsights: "enhanced"}
	// A canary: 10% of the traffic for five minutes, with the deployment
	// alarms watching, before the rest; the old tasks stay ten minutes more.
	p.Service.Rollout.Strategy = "CANARY"
	// Slices are shared by the copy; prod gets its own.
	p.Registry.ScratchTagPrefixes = slices.Clone(dev.Registry.ScratchTagPrefixes)
	p.Registry.KeepImages, p.Registry.UntaggedExpiryDays = 50, 7

	p.LoadBalancer.RequireHTTPS = true
	p.LoadBalancer.DeletionProtection = true
	p.LoadBalancer.DeregistrationDelaySeconds = 60
	p.LoadBalancer.AccessLogRetentionDays = 365
	p.LoadBalancer.Firewall = Firewall{Enabled: true, RateLimitPer5Minutes: 2000, LogRetentionDays: 365}

	p.Monitoring = Monitoring{
		RequireAlarmDestination:  true,
		FunctionLogRetentionDays: 365,
		Thresholds: Thresholds{
			ALB5xxPercent: 1, Target5xxCount: 5, UnhealthyTargets: 1, P95ResponseSeconds: 1, P99ResponseSeconds: 3,
			ServiceCPUPercent: 80, ServiceMemoryPercent: 80, ClusterCPUReservationPercent: 90, ClusterMemoryReservationPercent: 90,
			DatabaseCPUPercent: 80, DatabaseFreeableMemoryMiB: 512, DatabaseFreeStorageGiB: 20, DatabaseConnections: 500, DatabaseLatencyMillis: 20,
			RedisEngineCPUPercent: 80, RedisMemoryPercent: 80, RedisEvictions: 100, RedisConnections: 5000, RedisReplicationLagSeconds: 1,
			FirewallBlockedRequests: 1000,
		},
	}

	p.Database.InstanceClass = "m7g.large"
	p.Database.AllocatedStorageGiB, p.Database.MaxAllocatedStorageGiB = 100, 500
	p.Database.MultiAZ = true
	p.Database.DeletionProtection = true
	p.Database.BackupRetentionDays = 14
	p.Database.MonitoringIntervalSeconds = 15
	p.Database.LogRetentionDays = 365

	p.Cache.NodeType = "cache.r7g.large"
	p.Cache.Replicas = 1
	p.Cache.SnapshotRetentionDays = 7
	p.Cache.LogRetentionDays = 365
	return p
}

// promise is one thing an environment guarantees whatever its committed
// file says: the tests over the committed environments rely on it, so it
// holds for every valid file.
type promise struct {
	field   string
	value   func(Config) any
	holds   func(Config) bool
	allowed string
}

// promises are, per environment, what its file cannot turn off. Prod
// keeps its data and stacks, and reaches AWS without the internet at
// large; dev is torn down completely by make destroy. Changing a promise is
// a reviewed change of this list.
var promises = map[string][]promise{
	"prod": {
		{"TerminationProtection", func(c Config) any { return c.TerminationProtection }, func(c Config) bool { return c.TerminationProtection },
			"true: prod's stacks are protected from deletion"},
		{"RetainData", func(c Config) any { return c.RetainData }, func(c Config) bool { return c.RetainData },
			"true: prod keeps its data when a resource or stack goes"},
		{"Database.DeletionProtection", func(c Config) any { return c.Database.DeletionProtection }, func(c Config) bool { return c.Database.DeletionProtection },
			"true: prod's database cannot be deleted by accident"},
		{"LoadBalancer.DeletionProtection", func(c Config) any { return c.LoadBalancer.DeletionProtection }, func(c Config) bool { return c.LoadBalancer.DeletionProtection },
			"true: prod's load balancer, and its DNS name, cannot be deleted by accident"},
		{"Network.InterfaceEndpoints", func(c Config) any { return c.Network.InterfaceEndpoints }, func(c Config) bool { return c.Network.InterfaceEndpoints },
			"true: prod reaches AWS through VPC endpoints, with its egress closed"},
		{"Network.InternetEgress", func(c Config) any { return c.Network.InternetEgress }, func(c Config) bool { return !anyDestination(c.Network.InternetEgress) },
			"named destinations only, never 0.0.0.0/0: prod's egress is closed to the internet at large"},
	},
	"dev": {
		{"TerminationProtection", func(c Config) any { return c.TerminationProtection }, func(c Config) bool { return !c.TerminationProtection },
			"false: make destroy must be able to delete dev's stacks"},
		{"RetainData", func(c Config) any { return c.RetainData }, func(c Config) bool { return !c.RetainData },
			"false: make destroy must leave nothing of dev behind"},
		{"Database.DeletionProtection", func(c Config) any { return c.Database.DeletionProtection }, func(c Config) bool { return !c.Database.DeletionProtection },
			"false: make destroy must be able to delete dev's database"},
		{"LoadBalancer.DeletionProtection", func(c Config) any { return c.LoadBalancer.DeletionProtection }, func(c Config) bool { return !c.LoadBalancer.DeletionProtection },
			"false: make destroy must be able to delete dev's load balancer"},
		{"Cluster.ManagedTerminationProtection", func(c Config) any { return c.Cluster.ManagedTerminationProtection }, func(c Config) bool { return !c.Cluster.ManagedTerminationProtection },
			"false: protected instances would keep make destroy from deleting dev's Auto Scaling group"},
	},
}

// keepPromises reports every promise of the environment its config breaks.
func (c Config) keepPromises(v *validator) {
	for _, p := range promises[c.Environment] {
		v.check(p.holds(c), p.field, p.value(c), p.allowed+" (lib/config/presets.go, promises)")
	}
}

// anyDestination reports whether rules open a port to every IPv4 or IPv6
// address.
func anyDestination(rules []Egress) bool {
	return slices.ContainsFunc(rules, func(e Egress) bool { return e.CIDR == "0.0.0.0/0" || e.CIDR == "::/0" })
}
