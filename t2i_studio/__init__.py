"""T2I Studio: a desktop studio for text-to-image generation and neural style transfer."""

__version__ = "0.1.0"
APP_NAME = "T2I Studio"
APP_ID = "io.github.t2istudio.T2IStudio"
