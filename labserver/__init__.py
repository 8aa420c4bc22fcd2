"""Running the project on a lab server: systemd units, a nightly backup, and `doctor`."""
