// The tray icon: a 32×32 padlock, as PNG bytes, so the shell needs no asset file beside the bundle.
// (A template image on macOS: black with alpha, recoloured by the OS for light and dark menu bars.)
export const TRAY_ICON_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAUklEQVR42u3WwQkAIAxD0U7S/bfUDcRAQ4v+gEebd1AxghAiJjPXabWWWxG35RbETYENoQ4tR4wCOPfMA6invvxWAACgDAUA4F8A7wCAtk/qU9mqkvrIWxqxBAAAAABJRU5ErkJggg==';
