"""memaug_sim: MuJoCo sim bridge. ROS-free core (model, pd, faults, scenario, simulator) + node."""
