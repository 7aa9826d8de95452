package findings

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// SARIF 2.1.0, the subset code-scanning dashboards (GitHub, GitLab, Azure
// DevOps) read: one run, a rule per policy, a result per finding.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	projectURI   = "https://github.com/kubectl-mesh/kubectl-mesh"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string              `json:"id"`
	ShortDescription     sarifMessage        `json:"shortDescription"`
	FullDescription      sarifMessage        `json:"fullDescription"`
	Help                 *sarifMessage       `json:"help,omitempty"`
	HelpURI              string              `json:"helpUri"`
	DefaultConfiguration sarifConfiguration  `json:"defaultConfiguration"`
	Properties           sarifRuleProperties `json:"properties"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProperties struct {
	Tags        []string `json:"tags"`
	Aliases     []string `json:"aliases,omitempty"`
	Enforcement string   `json:"enforcement"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogicalLocation struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

func sarifLevel(s policies.Severity) string {
	switch s {
	case policies.SeverityError:
		return "error"
	case policies.SeverityWarning:
		return "warning"
	}
	return "note"
}

func printSARIF(w io.Writer, r *Report) error {
	driver := sarifDriver{Name: "kubectl-mesh", Version: r.ToolVersion, InformationURI: projectURI, Rules: []sarifRule{}}
	for _, p := range r.Policies {
		rule := sarifRule{
			ID:                   p.ID,
			ShortDescription:     sarifMessage{Text: p.Title},
			FullDescription:      sarifMessage{Text: strings.TrimSpace(p.Description)},
			HelpURI:              projectURI + "/blob/main/docs/policies.md#" + strings.ToLower(p.ID),
			DefaultConfiguration: sarifConfiguration{Level: sarifLevel(p.Severity)},
			Properties:           sarifRuleProperties{Tags: []string{"kubernetes", p.Mesh()}, Aliases: p.Aliases, Enforcement: string(p.Enforcement)},
		}
		if p.Remediation != "" {
			rule.Help = &sarifMessage{Text: strings.TrimSpace(p.Remediation)}
		}
		driver.Rules = append(driver.Rules, rule)
	}
	results := []sarifResult{}
	for _, f := range r.Findings {
		_, index := r.policy(f.PolicyID)
		if index < 0 {
			return fmt.Errorf("finding of %s, a policy the report does not list", f.PolicyID)
		}
		loc := sarifLocation{LogicalLocations: []sarifLogicalLocation{{FullyQualifiedName: f.Resource.String(), Kind: "resource"}}}
		if f.Source != nil && f.Source.File != "<stdin>" {
			loc.PhysicalLocation = &sarifPhysicalLocation{
				ArtifactLocation: sarifArtifactLocation{URI: (&url.URL{Path: filepath.ToSlash(f.Source.File)}).String()},
			}
			if f.Source.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Source.Line}
			}
		}
		results = append(results, sarifResult{
			RuleID:    f.PolicyID,
			RuleIndex: index,
			Level:     sarifLevel(f.Severity),
			Message:   sarifMessage{Text: f.Resource.String() + ": " + f.Message},
			Locations: []sarifLocation{loc},
		})
	}
	log := sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}}}
	data, err := json.MarshalIndent(log, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding SARIF: %w", err)
	}
	_, err = fmt.Fprintln(w, string(data))
	return err
}
