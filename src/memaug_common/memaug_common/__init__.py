"""memaug shared core: what sim, policy, hardware and training must agree on."""
