"""Log the weight of Hive 1 from the load-cell scale every hour.

The scale is an HX711 board read by a Raspberry Pi in the shed. A sudden drop of more
than 1.5 kg in an hour usually means the colony swarmed.
"""

import csv
import time
from datetime import datetime

SWARM_DROP_KG = 1.5
LOG_FILE = "/home/pi/hive1_weight.csv"


def read_weight_kg(sensor) -> float:
    """Average ten readings to smooth out wind on the hive roof."""
    readings = [sensor.get_weight() for _ in range(10)]
    return sum(readings) / len(readings) / 1000.0


def swarm_alert(previous: float, current: float) -> bool:
    """True when the hive lost more weight in an hour than a nectar flow explains."""
    return previous - current > SWARM_DROP_KG


def main(sensor) -> None:
    previous = None
    while True:
        weight = read_weight_kg(sensor)
        with open(LOG_FILE, "a", newline="") as f:
            csv.writer(f).writerow([datetime.now().isoformat(), f"{weight:.2f}"])
        if previous is not None and swarm_alert(previous, weight):
            print("Possible swarm from Hive 1! Check the apple trees.")
        previous = weight
        time.sleep(3600)
