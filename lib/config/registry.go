package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Registry configures the ECR repository.
type Registry struct {
	// ImmutableTags forbids overwriting a pushed tag. It must be true: the
	// service names its image by tag, and a tag pushed again would change
	// what a scale-out, a replaced instance or a rollback pulls. Default
	// true.
	ImmutableTags bool
	// ScratchTagPrefixes are the tag prefixes of images built for review or
	// testing (1-5 prefixes of 1-30 tag characters). Lifecycle rules keep
	// the newest KeepImages images of each prefix and expire older ones;
	// images with any other tag (releases, which Service.ImageTag names)
	// are never expired, so a task can always pull the image it runs or
	// rolls back to. Default ["pr-", "ci-"].
	ScratchTagPrefixes []string
	// KeepImages is how many images of each scratch prefix lifecycle rules
	// keep (1-1000). Default 10 in dev, 50 in prod.
	KeepImages int
	// UntaggedExpiryDays expires untagged images after this many days
	// (1-365). Default 1 in dev, 7 in prod.
	UntaggedExpiryDays int
}

var scratchPrefix = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,29}$`)

func (c Config) validateRegistry(v *validator) {
	r, tag := c.Registry, c.Service.ImageTag
	v.check(len(r.ScratchTagPrefixes) >= 1 && len(r.ScratchTagPrefixes) <= 5, "Registry.ScratchTagPrefixes", r.ScratchTagPrefixes, "1 to 5 tag prefixes")
	for i, p := range r.ScratchTagPrefixes {
		field := fmt.Sprintf("Registry.ScratchTagPrefixes[%d]", i)
		v.check(scratchPrefix.MatchString(p), field, p, "1-30 tag characters (letters, digits, _ . -) such as pr-")
		v.check(!slices.Contains(r.ScratchTagPrefixes[:i], p), field, p, "each prefix listed once")
		// The lifecycle rules expire old images of these prefixes; the
		// image the service runs must never be one of them.
		v.check(tag == "" || !strings.HasPrefix(strings.ToLower(tag), strings.ToLower(p)), "Service.ImageTag", tag,
			fmt.Sprintf("a release tag: tags starting with %q, in any case, are scratch images that lifecycle rules expire (Registry.ScratchTagPrefixes)", p))
	}
	v.check(r.ImmutableTags, "Registry.ImmutableTags", r.ImmutableTags,
		"true: the service names its image by tag (Service.ImageTag), and a tag pushed again would change what a scale-out, a replaced instance or a rollback pulls")
	v.check(r.KeepImages >= 1 && r.KeepImages <= 1000, "Registry.KeepImages", r.KeepImages, "from 1 to 1000")
	v.check(r.UntaggedExpiryDays >= 1 && r.UntaggedExpiryDays <= 365, "Registry.UntaggedExpiryDays", r.UntaggedExpiryDays, "from 1 to 365")
}
