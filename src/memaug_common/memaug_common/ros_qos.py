"""QoS profiles of memaug's topic contract (see DESIGN.md)."""

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

#: Latched topics (/policy/mode, /estop): late joiners get the recent messages, newest last.
#: Depth 10, not 1: a reliable writer with depth 1 replaces a value a slow reader has not
#: acknowledged yet, and a recorder would miss a mode change.
LATCHED = QoSProfile(
    depth=10,
    history=HistoryPolicy.KEEP_LAST,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
    reliability=ReliabilityPolicy.RELIABLE,
)

#: High-rate state and command streams: reliable, never blocking the publisher. The depth
#: absorbs bursts (a lockstep sim publishes many times faster than real time) so that a
#: recorder that falls briefly behind still receives every message.
STREAM = QoSProfile(
    depth=200,
    history=HistoryPolicy.KEEP_LAST,
    durability=DurabilityPolicy.VOLATILE,
    reliability=ReliabilityPolicy.RELIABLE,
)

#: The sim bridge's 500 Hz state streams: a lockstep sim publishes them several times faster
#: than real time, so the writer keeps a few seconds of history for a reader (a recorder)
#: that falls behind in a burst. Readers use STREAM: the writer's depth is what bounds loss.
STATE_STREAM = QoSProfile(
    depth=4000,
    history=HistoryPolicy.KEEP_LAST,
    durability=DurabilityPolicy.VOLATILE,
    reliability=ReliabilityPolicy.RELIABLE,
)

#: A controller's inputs (state into the policy, commands into a bridge): only the newest
#: sample matters. With a deep queue a controller that falls behind (a loaded machine, a
#: lockstep sim running 4x real time) takes the *oldest* waiting message first and acts on
#: state hundreds of milliseconds old while its staleness check, which sees the receive
#: time, passes; with depth 1 the middleware keeps only the latest, so lag cannot build up.
LATEST = QoSProfile(
    depth=1,
    history=HistoryPolicy.KEEP_LAST,
    durability=DurabilityPolicy.VOLATILE,
    reliability=ReliabilityPolicy.RELIABLE,
)

#: A wall-time controller's high-rate inputs (state into the policy, commands into the Go2
#: bridge): the newest sample, best effort, as ROS's sensor-data profile. A reliable reader
#: delivers in order, so one sample lost on a loaded machine (a full socket buffer on
#: loopback) holds every newer one back until the writer's next heartbeat brings the repair,
#: about 100 ms with Cyclone's defaults: longer than the policy's 0.1 s state timeout and the
#: bridge's 50 ms command watchdog. Best effort skips the lost sample and takes the next, 2 ms
#: later, and it matches writers of either reliability. (The start-up stale-state stops that
#: led here had a second cause, in the executor: memaug_policy.node's _take_newest_state.)
FRESHEST = QoSProfile(
    depth=1,
    history=HistoryPolicy.KEEP_LAST,
    durability=DurabilityPolicy.VOLATILE,
    reliability=ReliabilityPolicy.BEST_EFFORT,
)
