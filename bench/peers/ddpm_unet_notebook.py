"""PyTorch peer of genlab's DDPM U-Net at lecture 14's size: 8-16-32 channels, a 32-wide step embedding (the
notebook's SETTINGS.unetChannels and embedDim); otherwise ddpm_unet.py."""
from ddpm_unet import main

if __name__ == "__main__":
    main((8, 16, 32), 32, "ddpm_unet_notebook")
