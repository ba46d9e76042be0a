// Package arm owns Azure support: `shir arm template` (ARM templates for 1 to 4
// VMs that become nodes of one runtime, the key only in protectedSettings),
// `shir arm lint` (offline schema validation plus the arm-ttk rules), and the
// VM-extension handler contract (`shir arm handler <op>`, package
// arm/handler).
//
// Templates come from package templates (embedded, golden-tested). What they
// fix compared with the original quickstart (../shared/reference/
// azure-extension.md §1.6): no public IP and no port open to the Internet
// (one NSG rule allows only the HA port inside the virtual network); a
// location parameter; recent apiVersions; VMs in an availability set or
// zones; serial registration (copy mode Serial, batch 1); VM, computer and
// node names <prefix>-<n>, at most 15 characters; the auth key a
// securestring parameter used exactly once, in protectedSettings; a
// parameters file that never holds a secret (Key Vault references with
// --key-vault, else the secrets are asked at deployment).
//
// Decision: under the Custom Script Extension the command is
// `shir install /q AUTHKEY=... NODENAME=...` as DESIGN.md asks. CSE runs
// commandToExecute as a process, so the key is in that process's command
// line on the VM for the duration of the install (never in the template's
// public settings, outputs or the deployment history). --handler shir
// avoids even that: shir's own handler decrypts protectedSettings in
// process and hands the key to the installer in memory.
//
// Lint runs the JSON schema (2019-04-01 deployment template and parameters,
// embedded copies of the reference; the $ref loader maps
// https://schema.management.azure.com/schemas/... to them and stubs the
// provider schemas that are not shipped, so resources get the generic
// resourceBase checks) and every arm-ttk rule that has Pass/Fail fixtures
// in the reference, each tested against them, plus shir rules (prefix
// Shir-): management ports open to the Internet, storage endpoints with a
// fixed cloud suffix, and a parameters file passing undeclared parameters.
// apiVersion recency uses a pinned index of the newest GA versions
// (apiversions.go), refreshed on purpose, never fetched; "now" is injectable.
// Files are JSON with comments, as ARM accepts. As arm-ttk does, a file named
// azuredeploy.json or mainTemplate.json is a main template; any other is
// linted as a nested template (stricter location defaults).
package arm
