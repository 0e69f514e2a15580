"""memaug_policy: policy node. ROS-free core (observation, actions, runtime, fsm) + node."""
