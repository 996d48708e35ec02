// The renderer's entry point and screens arrive with the renderer work (issue 6).
export {};
