"""memaug_train: environments, recurrent PPO with memory augmentation, evaluation, export. No rclpy."""
