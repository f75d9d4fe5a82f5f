"""The sandbox: a QuickBooks Desktop simulator and a Web Connector emulator.

QuickBooks Desktop and its Web Connector run only on Windows; the sandbox lets
tests, CI, the demo and users run the whole loop anywhere.
"""
