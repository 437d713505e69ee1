package config

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Service configures the application's ECS service.
type Service struct {
	// ContainerPort is the port the application listens on (1024-65535; the
	// ALB, database and cache ports are taken). Default 8080.
	ContainerPort int
	// MinTasks is the lower bound of service auto scaling (1-100).
	// Default 1 in dev, 3 in prod.
	MinTasks int
	// MaxTasks is the upper bound of service auto scaling (MinTasks-100);
	// Cluster.MaxInstances must hold a deployment at MaxTasks
	// (capacity.go). Default 2 in dev, 12 in prod.
	MaxTasks int
	// ImageTag is the tag of the repository's image to run, committed in the
	// environment's file: deploying an image is a reviewed change of it.
	// Empty runs a placeholder that answers the health check (an image
	// asset the deploy builds with Docker and pushes into the account), so
	// the first deploy stabilizes while the repository is still empty;
	// only where AllowPlaceholderImage is set. Default "".
	ImageTag string
	// AllowPlaceholderImage lets an empty ImageTag run the placeholder.
	// Off, an environment refuses to synthesize without a tag, so no
	// forgotten override can swap a running image for the placeholder.
	// Default false: an environment's committed file turns it on (dev's
	// does; prod's does for the first deploy only).
	AllowPlaceholderImage bool
	// Cpu is the container's CPU units (128-10240, at most what an
	// instance of Cluster.InstanceType registers: 1024 per vCPU). Default
	// 256 in dev, 512 in prod.
	Cpu int
	// MemoryMiB is the container's hard memory limit (128-30720, at most
	// what an instance leaves tasks: 95% of its memory). Default 512 in
	// dev, 1024 in prod.
	MemoryMiB int
	// User is the user (NAME, UID or UID:GID) the container runs as, never
	// root; the image must let it run the application. Default
	// "65534:65534" (nobody), which the placeholder runs as.
	User string
	// ScratchMiB is the size of the tmpfs at /tmp, the only place the
	// container can write: its root filesystem is read-only (1-1024, and
	// counted against MemoryMiB). Default 64.
	ScratchMiB int
	// HealthCheckTool is the program the container health check runs to
	// fetch LoadBalancer.HealthCheckPath on ContainerPort: "wget" or "curl"
	// (the image needs /bin/sh and that program), or "none" for images
	// without a shell, which then rely on the load balancer's health check
	// alone. Default "wget".
	HealthCheckTool string
	// HealthCheckGraceSeconds is how long ECS ignores failing load-balancer
	// health checks of a new task (0-600). Default 60.
	HealthCheckGraceSeconds int
	// CPUTargetPercent is the average CPU that auto scaling keeps (10-90).
	// Default 60.
	CPUTargetPercent int
	// RequestsPerTarget is the ALB request count per task per minute that
	// auto scaling keeps (1-100000). Default 1000.
	RequestsPerTarget int
	// LogRetentionDays keeps the tasks' logs; one of the values CloudWatch
	// Logs accepts. Default 14 in dev, 365 in prod.
	LogRetentionDays int
	// EnableExec turns on ECS Exec (an SSM session into a running
	// container). Default true in dev, false in prod.
	EnableExec bool
	// Rollout is how a new task definition replaces the running one.
	Rollout Rollout
}

// Rollout configures how ECS ships a new image.
type Rollout struct {
	// Strategy is ROLLING (new tasks take traffic as soon as they are
	// healthy), BLUE_GREEN (all traffic moves at once to a full new set of
	// tasks), LINEAR (in equal steps) or CANARY (a share first, then the
	// rest); the last three keep the old tasks until the bake ends and roll
	// back on a deployment alarm. Default ROLLING in dev, CANARY in prod.
	Strategy string
	// StepPercent is the share of traffic a CANARY shifts first
	// (0.1-99.9), or a LINEAR step (3-99.9). Default 10.
	StepPercent float64
	// StepBakeMinutes is how long a CANARY or LINEAR waits after a shift
	// before the next one (0-1440). Default 5.
	StepBakeMinutes int
	// BakeMinutes is how long the old tasks stay after all traffic moved,
	// so a rollback is instant (0-1440). Default 10.
	BakeMinutes int
	// AlternateTargetGroup adds the second target group, the production
	// listener rule and the role ECS shifts traffic with while Strategy is
	// still ROLLING: the first of the two deploys that switch a running
	// service to BLUE_GREEN, LINEAR or CANARY, as the ECS Developer Guide
	// describes it (update-rolling-to-bluegreen); the second changes
	// Strategy. The replacement guard refuses the switch in one deploy.
	// Default false.
	AlternateTargetGroup bool
}

// Strategies are the rollout strategies ECS offers.
var Strategies = []string{"ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"}

// Progressive reports whether the strategy shifts traffic between two
// target groups (anything but ROLLING).
func (r Rollout) Progressive() bool { return r.Strategy != "ROLLING" }

// TwoTargetGroups reports whether the service has the alternate target
// group and the production rule: with a progressive strategy, or while a
// rolling service prepares the switch to one.
func (r Rollout) TwoTargetGroups() bool { return r.Progressive() || r.AlternateTargetGroup }

// Ports the platform listens on besides the container: the ALB's
// listeners, the database and the cache.
const (
	HTTPPort     = 80
	HTTPSPort    = 443
	PostgresPort = 5432
	RedisPort    = 6379
)

var (
	reservedPorts    = []int{HTTPPort, HTTPSPort, PostgresPort, RedisPort}
	imageTag         = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	healthCheckTools = []string{"wget", "curl", "none"}
	containerUser    = regexp.MustCompile(`^([a-z_][a-z0-9_-]{0,31}|[0-9]{1,10})(:([a-z_][a-z0-9_-]{0,31}|[0-9]{1,10}))?$`)
	// rootUser matches root by name or UID, with any group.
	rootUser = regexp.MustCompile(`^(root|0+)(:.*)?$`)
)

func (c Config) validateService(v *validator) {
	s := c.Service
	v.check(s.ContainerPort >= 1024 && s.ContainerPort <= 65535 && !slices.Contains(reservedPorts, s.ContainerPort),
		"Service.ContainerPort", s.ContainerPort, fmt.Sprintf("an unprivileged port from 1024 to 65535 other than %v", reservedPorts))
	v.check(s.MinTasks >= 1 && s.MinTasks <= 100, "Service.MinTasks", s.MinTasks, "from 1 to 100")
	v.check(s.MaxTasks >= max(s.MinTasks, 1) && s.MaxTasks <= 100, "Service.MaxTasks", s.MaxTasks,
		fmt.Sprintf("from Service.MinTasks (%d) to 100", s.MinTasks))
	v.check(s.ImageTag == "" || imageTag.MatchString(s.ImageTag), "Service.ImageTag", s.ImageTag, "empty (placeholder image) or a Docker tag: letters, digits, _ . -, up to 128 characters")
	v.check(s.ImageTag != "" || s.AllowPlaceholderImage, "Service.ImageTag", s.ImageTag,
		fmt.Sprintf("the release tag to run: %s does not allow the placeholder image (Service.AllowPlaceholderImage)", c.Environment))
	v.check(!strings.EqualFold(s.ImageTag, "latest"), "Service.ImageTag", s.ImageTag,
		"a version tag: latest names whatever was pushed last, so review cannot see what runs (and with Registry.ImmutableTags it can be pushed only once)")
	v.check(s.Cpu >= 128 && s.Cpu <= 10240, "Service.Cpu", s.Cpu, "from 128 to 10240 CPU units")
	v.check(s.MemoryMiB >= 128 && s.MemoryMiB <= 30720, "Service.MemoryMiB", s.MemoryMiB, "from 128 to 30720 MiB")
	v.check(containerUser.MatchString(s.User) && !rootUser.MatchString(s.User), "Service.User", s.User,
		"a user other than root that the image can run the application as: a name, a UID or UID:GID, such as 65534:65534 (nobody)")
	v.check(s.ScratchMiB >= 1 && s.ScratchMiB <= 1024 && (s.MemoryMiB < 128 || s.ScratchMiB < s.MemoryMiB), "Service.ScratchMiB", s.ScratchMiB,
		fmt.Sprintf("from 1 to 1024 MiB and less than Service.MemoryMiB (%d): the tmpfs at /tmp counts against the container's memory", s.MemoryMiB))
	v.check(slices.Contains(healthCheckTools, s.HealthCheckTool), "Service.HealthCheckTool", s.HealthCheckTool,
		fmt.Sprintf("one of %v (none for images without a shell)", healthCheckTools))
	v.check(s.HealthCheckGraceSeconds >= 0 && s.HealthCheckGraceSeconds <= 600, "Service.HealthCheckGraceSeconds", s.HealthCheckGraceSeconds, "from 0 to 600")
	v.check(s.CPUTargetPercent >= 10 && s.CPUTargetPercent <= 90, "Service.CPUTargetPercent", s.CPUTargetPercent, "from 10 to 90")
	v.check(s.RequestsPerTarget >= 1 && s.RequestsPerTarget <= 100000, "Service.RequestsPerTarget", s.RequestsPerTarget, "from 1 to 100000")
	v.check(slices.Contains(RetentionDays, s.LogRetentionDays), "Service.LogRetentionDays", s.LogRetentionDays, fmt.Sprintf("one of %v", RetentionDays))
	r := s.Rollout
	v.check(slices.Contains(Strategies, r.Strategy), "Service.Rollout.Strategy", r.Strategy, fmt.Sprintf("one of %v", Strategies))
	switch r.Strategy {
	case "CANARY":
		v.check(r.StepPercent >= 0.1 && r.StepPercent <= 99.9 && tenths(r.StepPercent), "Service.Rollout.StepPercent", r.StepPercent, "a share from 0.1 to 99.9 in steps of 0.1")
	case "LINEAR":
		v.check(r.StepPercent >= 3 && r.StepPercent <= 99.9 && tenths(r.StepPercent), "Service.Rollout.StepPercent", r.StepPercent, "a step from 3 to 99.9 in steps of 0.1")
	}
	v.check(r.StepBakeMinutes >= 0 && r.StepBakeMinutes <= 1440, "Service.Rollout.StepBakeMinutes", r.StepBakeMinutes, "from 0 to 1440")
	v.check(r.BakeMinutes >= 0 && r.BakeMinutes <= 1440, "Service.Rollout.BakeMinutes", r.BakeMinutes, "from 0 to 1440")
}

// tenths reports whether p is a multiple of 0.1.
func tenths(p float64) bool { return math.Abs(p*10-math.Round(p*10)) < 1e-9 }

// HealthCheckCommand is the container health check: it fetches path (the
// load balancer's health-check path) on the container's own port with
// HealthCheckTool, run by /bin/sh, or is "" for tool "none". Deriving it
// keeps it probing what the load balancer probes when either changes.
func (s Service) HealthCheckCommand(path string) string {
	url := shellWord(fmt.Sprintf("http://localhost:%d%s", s.ContainerPort, path))
	switch s.HealthCheckTool {
	case "wget":
		return "wget -q -O /dev/null " + url + " || exit 1"
	case "curl":
		return "curl -fsS -o /dev/null " + url + " || exit 1"
	}
	return ""
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9/:._~%=+,@-]*$`)

// shellWord quotes s for /bin/sh unless it is made of characters the shell
// takes literally.
func shellWord(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
