"""xmflow: the marketing-project control procedure (营销项目作业控制程序) on git and YAML."""

__version__ = "0.1.0"
