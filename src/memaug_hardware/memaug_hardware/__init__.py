"""memaug_hardware: the Unitree Go2 over its own low-level DDS protocol, and an emulator of it."""
