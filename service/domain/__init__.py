"""The pure core: money, payments and their state machine, commands, ports."""
