"""What a phase and a transition do, read off the resources a phase registers and the export: the
proofs `migrate check`, `migrate diff` and the program's outputs report. Nothing here decides what is
registered (that is components.desired)."""
