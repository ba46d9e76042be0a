// Package arm owns Azure support: `shir arm template` (ARM templates for 1 to 4
// VMs that become nodes of one runtime, the key only in protectedSettings),
// `shir arm lint` (offline schema validation plus the arm-ttk rules), and the
// VM-extension handler contract (`shir arm handler <op>`).
package arm
